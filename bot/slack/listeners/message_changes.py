"""Keeping quotes true to their Slack messages: an edit is followed (an excerpt only while
its words are still there; otherwise the capturer is asked to review), a deletion or a
tombstone deletes the quote."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners.capture import is_placeholder, tell
from bot.slack.listeners.runtime import Runtime
from bot.slack.views import review

log = logging.getLogger(__name__)


def register(app: App, rt: Runtime) -> None:
    services = rt.services

    @app.event({"type": "message", "subtype": "message_changed"})
    def message_changed(event: dict, context: BoltContext, client: WebClient) -> None:
        msg = event.get("message") or {}
        channel = event.get("channel")
        ts = msg.get("ts") or (event.get("previous_message") or {}).get("ts")
        if not channel or not ts:
            return
        team_id = context.team_id or ""
        if is_placeholder(msg):  # e.g. a deleted thread parent that still has replies
            services.deletion.delete_message(team_id, channel, ts)
        elif isinstance(msg.get("text"), str):
            rt.must_run(follow_edit, client, team_id, channel, ts, msg["text"])

    def follow_edit(client: WebClient, team_id: str, channel: str, ts: str,
                    text: str) -> None:
        quote = services.edits.edit_message(team_id, channel, ts, text)
        if quote is not None and quote.source_changed and quote.captured_by:
            tell(client, None, quote.captured_by,
                 review.source_changed_notice(quote, mask=rt.mask))

    @app.event({"type": "message", "subtype": "message_deleted"})
    def message_deleted(event: dict, context: BoltContext) -> None:
        ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        if event.get("channel") and ts:
            services.deletion.delete_message(context.team_id or "", event["channel"], ts)

    @app.event("message")
    def other_messages() -> None:
        """Plain messages need no action; handled so Bolt does not warn about them."""
