"""Storing new quotes (capture and import): what is already stored, one insert, a batch.

Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
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
    """Insert quotes in one statement; their ids in the order of ``rows``."""
    table = cast(Table, Quote.__table__)
    return list(session.scalars(
        table.insert().returning(Quote.id, sort_by_parameter_order=True), rows))


def existing_keys(session: Session, team_id: str, keys: Sequence[str]) -> set[str]:
    """Those of ``keys`` (``NewQuote.dedupe_key``) already stored in ``team_id``."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(session.scalars(select(Quote.dedupe_key).where(
            Quote.team_id == team_id, Quote.dedupe_key.in_(chunk))))
    return found
