"""Slack listeners, one module per surface; each exposes ``register(app, runtime)``."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import capture, conversations, home, install, recall
from bot.slack.listeners.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    recall.register(app, runtime)
    capture.register(app, runtime)
    home.register(app, runtime)
    install.register(app, runtime)
    conversations.register(app, runtime)
