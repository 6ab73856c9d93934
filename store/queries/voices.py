"""Near-duplicate voices: the same words captured again point at their first capture
(``quotes.voice_id``). Which quotes are near-duplicates is decided by
``store.retrieval.ranking.is_near_duplicate``; these functions read and write the links.

Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from store.models import Quote
from store.queries.id_lists import one_of


def texts(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The words of the quotes in ``ids`` that exist."""
    return dict(session.execute(select(Quote.id, Quote.text).where(
        one_of(session, Quote.id, sorted(set(ids))))).all())


def link(session: Session, earlier: Mapping[int, int]) -> dict[int, int]:
    """Point each new quote at the first capture of the earlier quote it repeats
    (``{new id: earlier id}``); returns ``{new id: first capture id}``."""
    roots = dict(session.execute(select(Quote.id, Quote.voice_id).where(
        one_of(session, Quote.id, sorted(set(earlier.values()))))).all())
    links = {quote_id: roots.get(other) or other for quote_id, other in earlier.items()}
    if links:  # one statement, executed for every link
        table = cast(Table, Quote.__table__)
        session.execute(table.update().where(table.c.id == bindparam("quote")).values(
            voice_id=bindparam("voice")), [{"quote": q, "voice": v} for q, v in links.items()])
    return links


def relink(session: Session, team_id: str, deleted: Sequence[int]) -> None:
    """After deleting first captures, the earliest remaining capture of each voice becomes
    its first."""
    for root in deleted:
        rest = list(session.scalars(select(Quote.id).where(
            Quote.team_id == team_id, Quote.voice_id == root).order_by(Quote.id)))
        if rest:
            session.execute(update(Quote).where(Quote.id == rest[0]).values(voice_id=None))
            session.execute(update(Quote).where(Quote.id.in_(rest[1:])).values(
                voice_id=rest[0]))
