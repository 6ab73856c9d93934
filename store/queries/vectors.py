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
    """A quote to encode again, its emotion and which head guessed it."""

    id: int
    team_id: str
    text: str
    emotion: str | None
    emotion_model: str | None = None
    emotion_by: str | None = None

    def needs_guess(self, version: str) -> bool:
        """Whether head ``version`` should (re)guess this quote's emotion: never over a
        person's choice (an emotion with no head recorded, or set by someone)."""
        chosen = self.emotion_by is not None or (self.emotion is not None
                                                 and self.emotion_model is None)
        return not chosen and self.emotion_model != version


def to_encode(session: Session, ids: Sequence[int]) -> list[ToEncode]:
    rows = session.execute(select(Quote.id, Quote.team_id, Quote.text, Quote.emotion,
                                  Quote.emotion_model, Quote.emotion_by)
                           .where(Quote.id.in_(ids))).all()
    return [ToEncode(r.id, r.team_id, r.text, r.emotion, r.emotion_model, r.emotion_by)
            for r in rows]


def stale_emotions(session: Session, version: str) -> list[int]:
    """Quotes whose emotion another head guessed (not a person): to guess again."""
    return list(session.scalars(select(Quote.id).where(
        Quote.emotion_model.is_not(None), Quote.emotion_model != version,
        Quote.emotion_by.is_(None)).order_by(Quote.id)))


def set_vector(session: Session, quote_id: int, embedding: bytes, model: str,
               extra: Mapping[str, object] | None = None) -> None:
    """Store a quote's new vector (and ``extra`` columns, such as a guessed emotion)."""
    session.execute(update(Quote).where(Quote.id == quote_id).values(
        embedding=embedding, embedding_model=model, **(extra or {})))
