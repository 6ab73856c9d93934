"""Who is asking, and what the policy lets them do: Slack's word on the user's role
(``users.info``, cached) put to :mod:`store.policy`."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.core.workspaces import WorkspaceService
from bot.slack.directory import Directory
from store.policy import Member, may_change_quote, may_change_settings, settings_role_text


class Permissions:
    def __init__(self, directory: Directory, workspaces: WorkspaceService) -> None:
        self.directory = directory
        self.workspaces = workspaces

    def member(self, client: WebClient, team_id: str, user_id: str) -> Member:
        """The requesting user's role as Slack reports it (a failed look-up grants nothing)."""
        return self.directory.member(client, team_id, user_id)

    def may_change(self, client: WebClient, team_id: str, user_id: str, quote: Any) -> bool:
        """The policy's answer for changing ``quote``; asks Slack only when not the capturer."""
        if quote.captured_by and quote.captured_by == user_id:
            return True
        return may_change_quote(quote, self.member(client, team_id, user_id))

    def settings(self, client: WebClient, team_id: str, user_id: str) -> tuple[bool, str]:
        """(allowed, who may) for changing this workspace's settings."""
        role = self.workspaces.get(team_id).settings_role
        allowed = may_change_settings(role, self.member(client, team_id, user_id))
        return allowed, settings_role_text(role)
