"""IN (...) lists of a few lengths only.

SQLAlchemy writes ``col IN (?, ?, ...)`` with one placeholder per value, so every new list
length is a new SQL text, prepared and kept by the driver's statement cache (Python's
``sqlite3``: 128 per connection; psycopg: on the server after a few runs). A search reads
every matching quote's evidence in one such list, and the number of matches grows with the
stored quotes: on SQLite each new length kept another prepared statement of ~25 KiB per
pooled connection, growing the server by megabytes in a soak (bench/LOAD.md, section 7).
:func:`padded` repeats the last value up to the next power of two, so a query takes one of
about ten shapes; a repeated value changes nothing in an IN list. On PostgreSQL
:func:`one_of` binds the whole list as one array instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

T = TypeVar("T")
SMALLEST = 8


def padded(values: Iterable[T]) -> list[T]:
    """``values`` (in order, duplicates kept) followed by copies of the last one, up to the
    next power of two (at least :data:`SMALLEST`); empty stays empty."""
    out = list(values)
    if not out:
        return out
    size = SMALLEST
    while size < len(out):
        size *= 2
    return out + [out[-1]] * (size - len(out))


def padded_chunks(values: Sequence[T], chunk: int) -> list[list[T]]:
    """``values`` cut into lists of at most ``chunk``, each :func:`padded`."""
    return [padded(values[start : start + chunk]) for start in range(0, len(values), chunk)]


def one_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``: on PostgreSQL ``= ANY(one array parameter)``, so the statement's
    text is the same whatever the number of values (psycopg parses a statement of thousands
    of placeholders anew each time); elsewhere a :func:`padded` IN list."""
    listed = list(values)
    if session.get_bind().dialect.name == "postgresql":
        clause: ColumnElement[bool] = column == any_(
            bindparam(None, listed, type_=postgresql.ARRAY(column.type)))
        return clause
    listed_in: ColumnElement[bool] = column.in_(padded(listed))
    return listed_in
