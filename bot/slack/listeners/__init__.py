"""Slack listeners, one module per surface; each exposes ``register(app, runtime)``."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import (
    capture,
    conversations,
    home,
    install,
    message_changes,
    new_messages,
    quote_actions,
    recall,
    suggest,
)
from bot.slack.listeners.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    recall.register(app, runtime)
    quote_actions.register(app, runtime)  # its stale-button check runs before the rest
    capture.register(app, runtime)
    suggest.register(app, runtime)
    new_messages.register(app, runtime)  # before message_changes' catch-all for messages
    message_changes.register(app, runtime)
    home.register(app, runtime)
    install.register(app, runtime)
    conversations.register(app, runtime)
