"""Conversations that change who reads them: converted to private, shared with or unshared
from another organisation (Slack Connect).

A conversion makes the channel's quotes private-origin from then on; a share or unshare
drops the cached look-up so the next post asks Slack again (see ``Directory.conversation``).
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext

from bot.slack.listeners.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: App, rt: Runtime) -> None:
    @app.event("channel_converted_to_private")
    def converted(event: dict, context: BoltContext) -> None:
        team_id, channel = context.team_id or "", str(event.get("channel") or "")
        if not channel:
            return
        rt.directory.forget_conversation(team_id, channel)
        changed = rt.services.edits.mark_conversation_private(team_id, channel)
        log.info("channel converted to private; its quotes are private-origin now",
                 extra={"team": team_id, "channel": channel, "quotes": changed})

    @app.event("channel_shared")
    @app.event("channel_unshared")
    def shared(event: dict, context: BoltContext) -> None:
        team_id, channel = context.team_id or "", str(event.get("channel") or "")
        if channel:
            rt.directory.forget_conversation(team_id, channel)
            log.info("channel sharing changed", extra={"team": team_id, "channel": channel,
                                                       "event": event.get("type")})
