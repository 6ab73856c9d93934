"""Deferred captures: capture reactions waiting for a worker, oldest first. A row is claimed
by deleting it, so two replicas never run the same one. Functions take a Session and never
commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from store.models import DeferredCapture


def add(session: Session, *, team_id: str, channel_id: str, message_ts: str, user_id: str,
        received_at: datetime) -> None:
    session.add(DeferredCapture(team_id=team_id, channel_id=channel_id,
                                message_ts=message_ts, user_id=user_id,
                                received_at=received_at))


def oldest(session: Session, limit: int) -> list[DeferredCapture]:
    return list(session.scalars(select(DeferredCapture).order_by(DeferredCapture.id)
                                .limit(limit)))


def take(session: Session, row_id: int) -> bool:
    """Delete row ``row_id``; True when this session deleted it (no one else claimed it)."""
    result = cast(CursorResult[Any], session.execute(
        delete(DeferredCapture).where(DeferredCapture.id == row_id)))
    return bool(result.rowcount)


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DeferredCapture)) or 0)
