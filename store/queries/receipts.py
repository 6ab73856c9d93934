"""Request receipts: "this Slack request was already handled", shared by every replica.

A receipt is one row keyed by what identifies a delivery (an event id, an action's trigger,
a signature). :func:`claim` inserts it, or takes over an expired one, in one statement
(``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``), so two processes racing for the
same key cannot both win. Functions take a Session and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from store.models import RequestReceipt

#: The longest key the column holds; callers hash anything that might be longer.
MAX_KEY = 200


def claim(session: Session, key: str, *, now: datetime, ttl: timedelta) -> bool:
    """Record ``key`` until ``now + ttl``; False if an unexpired receipt already holds it."""
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"a receipt key must be 1..{MAX_KEY} characters")
    expires = now + ttl
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        # The two dialects' Insert classes are distinct types with the same upsert method.
        stmt: ReturningInsert[str]
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql
            pg = postgresql.insert(RequestReceipt).values(key=key, expires_at=expires)
            stmt = pg.on_conflict_do_update(
                index_elements=[RequestReceipt.key], set_={"expires_at": expires},
                where=RequestReceipt.expires_at <= now).returning(RequestReceipt.key)
        else:
            from sqlalchemy.dialects import sqlite
            lite = sqlite.insert(RequestReceipt).values(key=key, expires_at=expires)
            stmt = lite.on_conflict_do_update(
                index_elements=[RequestReceipt.key], set_={"expires_at": expires},
                where=RequestReceipt.expires_at <= now).returning(RequestReceipt.key)
        return session.execute(stmt).first() is not None
    try:  # any other database: a plain insert in a savepoint (purge frees expired keys)
        with session.begin_nested():
            session.add(RequestReceipt(key=key, expires_at=expires))
    except IntegrityError:
        return False
    return True


def release(session: Session, key: str) -> None:
    """Forget ``key`` (its request failed before it was acknowledged: a retry may run)."""
    session.execute(delete(RequestReceipt).where(RequestReceipt.key == key))


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete every receipt that expired before ``now``; returns how many."""
    result = session.connection().execute(
        delete(RequestReceipt).where(RequestReceipt.expires_at <= now))
    return int(result.rowcount or 0)


def count(session: Session) -> int:
    """How many receipts are stored (expired or not)."""
    return int(session.scalar(select(func.count()).select_from(RequestReceipt)) or 0)
