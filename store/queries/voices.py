"""Near-duplicate voices: the same words captured again point at their first capture
(``quotes.voice_id``). Which quotes are near-duplicates is decided by
``store.retrieval.ranking.is_near_duplicate``; these functions read and write the links.

Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import Quote
from store.queries.id_lists import padded


def texts(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The words of the quotes in ``ids`` that exist."""
    return dict(session.execute(select(Quote.id, Quote.text).where(
        Quote.id.in_(padded(set(ids))))).all())


def link(session: Session, earlier: Mapping[int, int]) -> dict[int, int]:
    """Point each new quote at the first capture of the earlier quote it repeats
    (``{new id: earlier id}``); returns ``{new id: first capture id}``."""
    roots = dict(session.execute(select(Quote.id, Quote.voice_id).where(
        Quote.id.in_(padded(set(earlier.values()))))).all())
    links = {}
    for quote_id, other in earlier.items():
        links[quote_id] = roots.get(other) or other
        session.execute(update(Quote).where(Quote.id == quote_id).values(
            voice_id=links[quote_id]))
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
