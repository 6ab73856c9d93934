"""Pending captures: a message shortcut's text held between opening the form and submitting
it, in the database so that any replica can finish the capture. Functions take a Session
and never commit."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from store.models import PendingCapture


def key_for(team_id: str, user_id: str, channel_id: str, ts: str) -> str:
    """One row per person and message: a second person's form on the same message has its
    own row, and a form is found only with the team and user of the request submitting it."""
    raw = "\x1f".join((team_id, user_id, channel_id, ts))
    return "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def put(session: Session, key: str, *, team_id: str, user_id: str, text: str,
        expires_at: datetime) -> None:
    row = session.get(PendingCapture, key)
    if row is None:
        session.add(PendingCapture(key=key, team_id=team_id, user_id=user_id, text=text,
                                   expires_at=expires_at))
    else:
        row.team_id, row.user_id, row.text, row.expires_at = team_id, user_id, text, expires_at


def text_of(session: Session, key: str, *, team_id: str, user_id: str,
            now: datetime) -> str | None:
    """The held text, when it belongs to this team and user and has not expired."""
    return session.scalar(select(PendingCapture.text).where(
        PendingCapture.key == key, PendingCapture.team_id == team_id,
        PendingCapture.user_id == user_id, PendingCapture.expires_at > now))


def remove(session: Session, key: str) -> None:
    session.execute(delete(PendingCapture).where(PendingCapture.key == key))


def remove_expired(session: Session, now: datetime) -> int:
    result = cast(CursorResult[Any], session.execute(
        delete(PendingCapture).where(PendingCapture.expires_at <= now)))
    return int(result.rowcount or 0)
