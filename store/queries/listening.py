"""Channels where listening is on (external members' messages kept as quotes).

Functions take a Session and never commit; state comes back as a frozen
:class:`ListeningState`, never as the ORM row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import ListeningChannel


@dataclass(frozen=True)
class ListeningState:
    team_id: str
    channel_id: str
    enabled: bool
    changed_by: str | None = None
    changed_at: datetime | None = None
    announced_at: datetime | None = None


def _state(team_id: str, channel_id: str, row: ListeningChannel | None) -> ListeningState:
    if row is None:
        return ListeningState(team_id, channel_id, enabled=False)
    return ListeningState(team_id, channel_id, bool(row.enabled), row.changed_by,
                          _aware(row.changed_at), _aware(row.announced_at))


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


def state(session: Session, team_id: str, channel_id: str) -> ListeningState:
    return _state(team_id, channel_id, session.get(ListeningChannel, (team_id, channel_id)))


def set_enabled(session: Session, team_id: str, channel_id: str, enabled: bool, *,
                by: str, now: datetime) -> ListeningState:
    """Turn listening on or off; remembers who and when (an announcement stays recorded)."""
    row = session.get(ListeningChannel, (team_id, channel_id))
    if row is None:
        row = ListeningChannel(team_id=team_id, channel_id=channel_id)
        session.add(row)
    row.enabled, row.changed_by, row.changed_at = enabled, by, now
    session.flush()
    return _state(team_id, channel_id, row)


def claim_announcement(session: Session, team_id: str, channel_id: str,
                       now: datetime) -> bool:
    """Mark the channel announced if nobody did yet; True for the one caller that did (the
    conditional update is what makes the announcement happen once across replicas)."""
    result = session.execute(
        update(ListeningChannel)
        .where(ListeningChannel.team_id == team_id, ListeningChannel.channel_id == channel_id,
               ListeningChannel.announced_at.is_(None))
        .values(announced_at=now))
    return bool(getattr(result, "rowcount", 0) == 1)


def release_announcement(session: Session, team_id: str, channel_id: str) -> None:
    """The announcement could not be posted: it is owed again, and listening goes off."""
    session.execute(
        update(ListeningChannel)
        .where(ListeningChannel.team_id == team_id, ListeningChannel.channel_id == channel_id)
        .values(announced_at=None, enabled=False))


def enabled_channels(session: Session, team_id: str) -> list[str]:
    """Channels where listening is on, oldest change first."""
    return list(session.scalars(
        select(ListeningChannel.channel_id)
        .where(ListeningChannel.team_id == team_id, ListeningChannel.enabled.is_(True))
        .order_by(ListeningChannel.changed_at, ListeningChannel.channel_id)))
