"""Quote vectors kept in the database, so an index is rebuilt without encoding again and a
model change is noticed (each vector carries the name of the model that made it).

Reading every stored vector at start-up is :func:`store.queries.quotes.stored_vectors`.
Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import Quote


@dataclass(frozen=True)
class ToEncode:
    """A quote to encode again, and whether it already has an emotion."""

    id: int
    team_id: str
    text: str
    emotion: str | None


def to_encode(session: Session, ids: Sequence[int]) -> list[ToEncode]:
    rows = session.execute(select(Quote.id, Quote.team_id, Quote.text, Quote.emotion)
                           .where(Quote.id.in_(ids))).all()
    return [ToEncode(r.id, r.team_id, r.text, r.emotion) for r in rows]


def set_vector(session: Session, quote_id: int, embedding: bytes, model: str,
               extra: Mapping[str, object] | None = None) -> None:
    """Store a quote's new vector (and ``extra`` columns, such as a guessed emotion)."""
    session.execute(update(Quote).where(Quote.id == quote_id).values(
        embedding=embedding, embedding_model=model, **(extra or {})))
