"""`/voice digest [here|off|#channel] [day] [HH:MM] [Zone/Name]`: show or change the
weekly digest's schedule, for whoever the workspace lets change settings."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.core.workspaces import DAY_NAMES, WorkspaceService, parse_digest_args
from bot.slack.directory import Directory
from bot.slack.permissions import Permissions
from bot.slack.views import blocks
from store.errors import DatabaseUnavailable, InvalidQuote

log = logging.getLogger(__name__)


def digest_channel_problem(directory: Directory, client: WebClient, team_id: str,
                           channel: str | None) -> str | None:
    """Why ``channel`` cannot take the digest (it is read by another organisation)."""
    if channel and directory.conversation(client, team_id, channel).external:
        return (f"<#{channel}> is shared with another organisation; the digest quotes "
                "users and must stay internal. Choose an internal channel.")
    return None


def digest_command(permissions: Permissions, workspaces: WorkspaceService, client: WebClient,
                   team_id: str, user_id: str, args: str,
                   here: str) -> tuple[str, list[dict]]:
    """The reply to `/voice digest ...` (changes made only when the user may)."""
    try:
        changes = parse_digest_args(args, here)
        if changes:
            allowed, who = permissions.settings(client, team_id, user_id)
            if not allowed:
                log.warning("settings change refused", extra={"team": team_id,
                                                              "user": user_id})
                return blocks.message(f"Only {who} can change voicebot's settings. Ask "
                                      "one of them; `/voice digest` shows the current "
                                      "schedule.")
            channel = changes.get("digest_channel")
            problem = digest_channel_problem(permissions.directory, client, team_id,
                                             channel if isinstance(channel, str) else None)
            if problem:
                return blocks.message(problem)
        settings = (workspaces.update(team_id, **changes) if changes
                    else workspaces.get(team_id))
    except InvalidQuote as exc:
        return blocks.message(f"{exc}. Example: `/voice digest here monday 09:00 "
                              "Europe/Paris`, or `/voice digest off`.")
    except DatabaseUnavailable:
        return blocks.message("I can't reach my database right now; try again shortly.")
    if not settings.digest_channel:
        return blocks.message("The weekly digest is *off*. Turn it on here with "
                              "`/voice digest here monday 09:00 Europe/Paris`.")
    return blocks.message(
        f"The weekly digest goes to <#{settings.digest_channel}> on "
        f"{DAY_NAMES[settings.digest_weekday].title()}s at {settings.digest_time} "
        f"({settings.digest_timezone}). Change it with `/voice digest ...` or in my App "
        "Home; make sure I'm in that channel.")
