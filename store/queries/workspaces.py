"""Workspaces voicebot knows and the settings their people edit from Slack.

Functions take a Session and never commit; settings come back as a frozen
:class:`WorkspaceSettings` (the defaults filled in), never as the ORM row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import Workspace


@dataclass(frozen=True)
class WorkspaceSettings:
    team_id: str
    capture_emoji: str
    digest_channel: str | None
    digest_weekday: int
    digest_time: str
    digest_timezone: str
    digest_problem: str | None = None
    settings_role: str = "admins"  # who may change these settings (store.policy)
    connect_share_own: bool = False  # Slack Connect: share a partner's own people's quotes
    stale_months: int = 6  # evidence older than this is called old


def _settings(team_id: str, row: Workspace | None, default_emoji: str) -> WorkspaceSettings:
    if row is None:
        return WorkspaceSettings(team_id, default_emoji, None, 0, "09:00", "UTC")
    return WorkspaceSettings(team_id, row.capture_emoji or default_emoji,
                             row.digest_channel, row.digest_weekday or 0,
                             row.digest_time or "09:00", row.digest_timezone or "UTC",
                             row.digest_problem, row.settings_role or "admins",
                             bool(row.connect_share_own), row.stale_months or 6)


def settings(session: Session, team_id: str, default_emoji: str) -> WorkspaceSettings:
    """A workspace's settings; defaults for one voicebot has not stored."""
    return _settings(team_id, session.get(Workspace, team_id), default_emoji)


def ensure(session: Session, team_id: str, name: str | None = None) -> None:
    """Remember the workspace (and its current name)."""
    row = session.get(Workspace, team_id)
    if row is None:
        session.add(Workspace(team_id=team_id, name=name))
    elif name and row.name != name:
        row.name = name


def change(session: Session, team_id: str, changes: Mapping[str, object],
           default_emoji: str) -> WorkspaceSettings:
    """Store validated settings changes; choosing a digest channel clears its problem."""
    row = session.get(Workspace, team_id)
    if row is None:
        row = Workspace(team_id=team_id)
        session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    if "digest_channel" in changes:
        row.digest_problem = None
    session.flush()
    return _settings(team_id, row, default_emoji)


def with_digest(session: Session) -> list[str]:
    """Workspaces that chose a digest channel."""
    return list(session.scalars(select(Workspace.team_id).where(
        Workspace.digest_channel.is_not(None))))


def set_digest_problem(session: Session, team_id: str, problem: str | None) -> None:
    """What stops the digest from being posted (shown in Settings), or None."""
    session.execute(update(Workspace).where(Workspace.team_id == team_id).values(
        digest_problem=problem))
