"""Storing new quotes (capture and import): what is already stored, one insert, a batch.

Functions take a Session and never commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import JSON, Table, func, select, text, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from store.errors import AlreadyStored
from store.models import Quote
from store.queries.quotes import NewQuote, QuoteView, by_message, view


def find_saved(session: Session, new: NewQuote) -> QuoteView | None:
    """The quote already stored for ``new``: the same Slack message, or the same content."""
    if new.channel_id and new.message_ts:
        quote = by_message(session, new.team_id, new.channel_id, new.message_ts)
    else:
        quote = session.scalar(select(Quote).where(Quote.team_id == new.team_id,
                                                   Quote.dedupe_key == new.dedupe_key))
    return None if quote is None else view(quote)


def add(session: Session, row: dict[str, object]) -> QuoteView:
    """Insert one quote (values from :func:`store.queries.quotes.to_row`);
    :class:`AlreadyStored` when its Slack message or content is already stored (the session
    must then be rolled back)."""
    quote = Quote(**row)
    session.add(quote)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyStored("this quote is already stored") from exc
    return view(quote)


def add_many(session: Session, rows: Sequence[dict[str, object]]) -> list[int]:
    """Insert quotes; their ids in the order of ``rows``. PostgreSQL through psycopg: ids
    drawn from the sequence in one statement, then one ``COPY quotes FROM STDIN`` (an
    INSERT of 512 rows is a statement of ~18,000 placeholders that psycopg parses for each
    batch); SQLite: one executemany, then the ids (:func:`_insert_sqlite`); elsewhere one
    INSERT ... RETURNING."""
    table = cast(Table, Quote.__table__)
    if rows and _copyable(session, table, rows):
        return _copy_in(session, table, rows)
    if rows and _uniform(table, rows) and session.get_bind().dialect.name == "sqlite":
        return _insert_sqlite(session, table, rows)
    return list(session.scalars(
        table.insert().returning(Quote.id, sort_by_parameter_order=True), rows))


def _uniform(table: Table, rows: Sequence[dict[str, object]]) -> bool:
    """The same columns of ``table`` in every row, no id given."""
    keys = set(rows[0])
    return "id" not in keys and keys <= set(table.c.keys()) and all(set(r) == keys
                                                                     for r in rows)


def _insert_sqlite(session: Session, table: Table, rows: Sequence[dict[str, object]]) -> list[int]:
    """SQLite: the rows in one executemany, then their ids. INSERT ... RETURNING with ids in
    the order of the rows is run by SQLAlchemy a row at a time on SQLite (it does not count
    on RETURNING's order there): a statement, its parameters and a result per quote.

    Once the first row is in, this transaction holds the write lock, and SQLite gives each
    new row the largest id + 1 (the table has no AUTOINCREMENT): the rows have the ``n`` ids
    up to the last one given. That is checked (the ids from the first one on are ``n``, the
    last the largest); were it not so (SQLite picks free ids at random once the largest
    possible is taken), the ids are read by each row's team and re-import key."""
    n = len(rows)
    session.execute(table.insert(), rows)
    last = int(session.execute(text("SELECT last_insert_rowid()")).scalar_one())
    top, count = session.execute(
        select(func.max(table.c.id), func.count()).where(table.c.id > last - n)).one()
    if top == last and count == n:
        return list(range(last - n + 1, last + 1))
    keys = [(r["team_id"], r["dedupe_key"]) for r in rows]
    found: dict[tuple[object, object], int] = {}
    for start in range(0, n, 200):
        chunk = keys[start:start + 200]
        found.update(((t, k), i) for i, t, k in session.execute(
            select(table.c.id, table.c.team_id, table.c.dedupe_key).where(
                tuple_(table.c.team_id, table.c.dedupe_key).in_(chunk))))
    return [found[k] for k in keys]


def _copyable(session: Session, table: Table, rows: Sequence[dict[str, object]]) -> bool:
    """Whether :func:`_copy_in` writes exactly what the INSERT would: PostgreSQL through
    psycopg, the same columns in every row, no id given, and every column with a default
    computed in Python given (COPY applies only the database's own defaults)."""
    dialect = session.get_bind().dialect
    if (dialect.name, dialect.driver) != ("postgresql", "psycopg"):
        return False
    keys = set(rows[0])
    if "id" in keys or not keys <= set(table.c.keys()) or any(set(r) != keys for r in rows):
        return False
    return all(c.key in keys for c in table.c if c.default is not None and not c.primary_key)


def _copy_in(session: Session, table: Table, rows: Sequence[dict[str, object]]) -> list[int]:
    import psycopg
    from psycopg import sql

    columns = list(rows[0])
    dialect = session.get_bind().dialect
    dump_json = getattr(dialect, "_json_serializer", None) or json.dumps
    as_json = {n: cast(JSON, table.c[c].type).none_as_null for n, c in enumerate(columns)
               if isinstance(table.c[c].type, JSON)}  # as SQLAlchemy binds them
    statement = sql.SQL("COPY quotes ({}) FROM STDIN").format(
        sql.SQL(", ").join(map(sql.Identifier, ["id", *columns])))
    raw: Any = session.connection().connection.driver_connection
    try:
        with raw.cursor() as cursor:
            ids = sorted(int(i) for (i,) in cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('quotes', 'id')) "
                "FROM generate_series(1, %s)", (len(rows),)).fetchall())
            with cursor.copy(statement) as copy:
                for quote_id, row in zip(ids, rows):
                    values = [row[c] for c in columns]
                    for n, none_as_null in as_json.items():
                        if values[n] is not None or not none_as_null:
                            values[n] = dump_json(values[n])
                    copy.write_row([quote_id, *values])
    except psycopg.Error as exc:  # the errors SQLAlchemy raises for the INSERT
        raise DBAPIError.instance(statement.as_string(raw), None, exc,
                                  psycopg.Error) from exc
    return ids


def existing_keys(session: Session, team_id: str, keys: Sequence[str]) -> set[str]:
    """Those of ``keys`` (``NewQuote.dedupe_key``) already stored in ``team_id``."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(session.scalars(select(Quote.dedupe_key).where(
            Quote.team_id == team_id, Quote.dedupe_key.in_(chunk))))
    return found
