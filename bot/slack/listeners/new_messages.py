"""New messages in channels: one listener (Bolt runs only the first listener that matches
an event) hands each message to listening (:mod:`.listening`: keep other organisations'
words where an admin turned it on) and to suggestions (:mod:`.suggest`: offer evidence)."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners import listening, suggest
from bot.slack.listeners.runtime import Runtime


def register(app: App, rt: Runtime) -> None:
    @app.event({"type": "message", "subtype": suggest.NEW_WORDS_SUBTYPES})
    def new_message(event: dict, context: BoltContext, client: WebClient) -> None:
        team_id = context.team_id or ""
        try:
            listening.hear(rt, client, team_id, event)
        finally:  # one failing never keeps the message from the other
            suggest.consider(rt, client, team_id, event)
