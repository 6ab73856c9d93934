"""Request receipts: "this Slack request was already handled", shared by every replica.

A receipt is one row keyed by what identifies a delivery (an event id, an action's trigger,
a signature). :func:`claim` inserts it, or takes over an expired one, in one statement
(``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``), so two processes racing for the
same key cannot both win. Functions take a Session and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from store.models import RequestReceipt

#: The longest key the column holds; callers hash anything that might be longer.
MAX_KEY = 200


def claim(session: Session | Connection, key: str, *, now: datetime,
          ttl: timedelta) -> bool:
    """Record ``key`` until ``now + ttl``; False if an unexpired receipt already holds it.
    ``session`` may be a Core connection: the request path claims on one (no ORM unit of
    work, a statement compiled once), which costs about a quarter of an ORM session's
    claim (bench/slack_http_stages.py)."""
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"a receipt key must be 1..{MAX_KEY} characters")
    dialect = session.get_bind().dialect.name if isinstance(session, Session) \
        else session.dialect.name
    params = {"key": key, "expires": now + ttl, "now": now}
    if dialect in ("postgresql", "sqlite"):
        return session.execute(_upsert(dialect), params).first() is not None
    try:  # any other database: a plain insert in a savepoint (purge frees expired keys)
        with session.begin_nested():
            session.execute(insert(_TABLE).values(key=bindparam("key"),
                                                  expires_at=bindparam("expires")), params)
    except IntegrityError:
        return False
    return True


_TABLE = cast(Table, RequestReceipt.__table__)


@cache
def _upsert(dialect: str) -> ReturningInsert[tuple[str]]:
    """``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE expired RETURNING key``, built once
    per dialect with bound parameters ``key``, ``expires`` and ``now``."""
    table = _TABLE
    # The two dialects' Insert classes are distinct types with the same upsert method.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql
        pg = postgresql.insert(table).values(key=bindparam("key"),
                                             expires_at=bindparam("expires"))
        return pg.on_conflict_do_update(
            index_elements=[table.c.key], set_={"expires_at": pg.excluded.expires_at},
            where=table.c.expires_at <= bindparam("now")).returning(table.c.key)
    from sqlalchemy.dialects import sqlite
    lite = sqlite.insert(table).values(key=bindparam("key"), expires_at=bindparam("expires"))
    return lite.on_conflict_do_update(
        index_elements=[table.c.key], set_={"expires_at": lite.excluded.expires_at},
        where=table.c.expires_at <= bindparam("now")).returning(table.c.key)


def release(session: Session | Connection, key: str) -> None:
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
