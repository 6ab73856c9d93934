"""Installation lifecycle: revoked tokens and uninstalls.

What happens to a workspace's quotes when it uninstalls voicebot is the setting
``VOICEBOT_ON_UNINSTALL``: ``keep`` (default; a reinstall finds them again) or ``delete``
(every quote, its history and vectors are erased, with an audit entry per quote).
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners

from bot.slack.listeners.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: App, rt: Runtime) -> None:
    revocation = (TokenRevocationListeners(rt.installation_store)
                  if rt.installation_store is not None else None)
    settings = rt.services.settings

    @app.event("tokens_revoked")
    def tokens_revoked(event: dict, context: BoltContext) -> None:
        log.info("tokens revoked", extra={"team": context.team_id})
        if revocation is not None:
            revocation.handle_tokens_revoked_events(event, context)

    @app.event("app_uninstalled")
    def app_uninstalled(context: BoltContext) -> None:
        team_id = context.team_id or ""
        if revocation is not None:
            revocation.handle_app_uninstalled_events(context)
        if settings.on_uninstall == "delete":
            removed = rt.services.deletion.purge_team(
                team_id, by="slack:app_uninstalled")
            log.info("workspace uninstalled; quotes deleted",
                     extra={"team": team_id, "count": removed})
        else:
            log.info("workspace uninstalled; quotes kept (VOICEBOT_ON_UNINSTALL=keep)",
                     extra={"team": team_id})
