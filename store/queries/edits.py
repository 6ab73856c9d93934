"""Changes to stored quotes: new words from an edited Slack message, the "message changed"
flag its capturer reviews, attribution fields, and privacy when a channel turns private.

Functions take a Session and never commit; they return :class:`QuoteView` (or None when
the quote is not there or nothing changed), never ORM objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from store.errors import InvalidQuote
from store.models import Quote, QuoteRevision, utcnow
from store.queries.quotes import QuoteView, by_message, get, text_problem, view


def _view(session: Session, quote: Quote) -> QuoteView:
    session.flush()
    return view(quote, revisions=len(quote.revisions))


def _record_edit(session: Session, quote: Quote, new_text: str, now: datetime) -> bool:
    """Keep the old words as a revision and store the new ones (the quote matches its message
    again: ``source_changed`` is cleared); False if unchanged. Only for whole-message quotes;
    the new words pass the same checks as a capture (:func:`text_problem`)."""
    if quote.is_excerpt:
        raise InvalidQuote("an excerpt keeps the words its capturer chose; it is not replaced")
    problem = text_problem(new_text)
    if problem:
        raise InvalidQuote(problem)
    quote.source_changed = False
    if quote.text == new_text:
        return False
    session.add(QuoteRevision(quote_id=quote.id, text=quote.text, replaced_at=now))
    quote.text = new_text
    return True


def _chosen(quote: Quote) -> bool:
    """A person chose this quote's emotion (an edit, or at capture: no head recorded)."""
    return quote.emotion_by is not None or (quote.emotion is not None
                                            and quote.emotion_model is None)


def replace_words(session: Session, team_id: str, channel_id: str, ts: str, new_text: str,
                  *, now: datetime, embedding: bytes, model: str,
                  emotion: dict[str, Any] | None) -> QuoteView | None:
    """The whole-message quote of this Slack message takes ``new_text`` (its old words kept
    as a revision) with its new vector; ``emotion`` (stored columns) replaces a guessed
    emotion but never a person's correction. None when there is no such quote, it is an
    excerpt, or the words are the same (then a "message changed" flag is cleared)."""
    quote = by_message(session, team_id, channel_id, ts)
    if quote is None or quote.is_excerpt:
        return None
    if not _record_edit(session, quote, new_text, now):
        return None
    quote.embedding, quote.embedding_model = embedding, model
    if emotion and not _chosen(quote):
        for column, value in emotion.items():
            setattr(quote, column, value)
    return _view(session, quote)


def stored_passages(session: Session, team_id: str,
                    keys: list[str]) -> dict[str, tuple[int, str, tuple[int | None, int | None]]]:
    """Transcript passages already stored, by passage key: ``(quote id, words,
    (char_start, char_end))``."""
    found: dict[str, tuple[int, str, tuple[int | None, int | None]]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for key, quote_id, text, c_start, c_end in session.execute(
                select(Quote.dedupe_key, Quote.id, Quote.text, Quote.char_start,
                       Quote.char_end).where(
                    Quote.team_id == team_id, Quote.dedupe_key.in_(chunk))):
            found[key] = (quote_id, text, (c_start, c_end))
    return found


def replace_passage(session: Session, team_id: str, passage_key: str, new_text: str, *,
                    now: datetime, embedding: bytes | None, model: str | None,
                    emotion: dict[str, Any] | None,
                    position: dict[str, object]) -> QuoteView | None:
    """A corrected transcript changed this passage's words: keep the old words as a revision
    and store the new ones, their vector (when given) and ``position`` (start_seconds,
    char_start, char_end). A guessed emotion is replaced, a person's choice kept. None when
    there is no such passage or nothing changed."""
    quote = session.scalar(select(Quote).where(Quote.team_id == team_id,
                                               Quote.dedupe_key == passage_key))
    if quote is None:
        return None
    if not _record_edit(session, quote, new_text, now):
        return None
    for column, value in position.items():
        setattr(quote, column, value)
    if embedding is not None:
        quote.embedding, quote.embedding_model = embedding, model
    if emotion and not _chosen(quote):
        for column, value in emotion.items():
            setattr(quote, column, value)
    return _view(session, quote)


def flag_message_changed(session: Session, team_id: str, channel_id: str,
                         ts: str) -> QuoteView | None:
    """Mark that the Slack message no longer matches the saved words; None when there is no
    quote or it was already flagged."""
    quote = by_message(session, team_id, channel_id, ts)
    if quote is None or quote.source_changed:
        return None
    quote.source_changed = True
    return _view(session, quote)


def clear_message_changed(session: Session, team_id: str, quote_id: int) -> QuoteView | None:
    """The capturer keeps the saved words: clear the flag (None when there is no quote)."""
    quote = get(session, team_id, quote_id)
    if quote is None:
        return None
    quote.source_changed = False
    return _view(session, quote)


def set_details(session: Session, team_id: str, quote_id: int,
                changes: dict[str, object]) -> QuoteView | None:
    """Set attribution columns (the caller checked which); a chosen emotion is certain.
    None when the quote is not in ``team_id``."""
    quote = get(session, team_id, quote_id)
    if quote is None:
        return None
    for key, value in changes.items():
        setattr(quote, key, value)
    if "emotion" in changes:  # a person's choice: no head guessed it
        quote.emotion_confidence = 1.0
        quote.emotion_model = None
    session.flush()
    return view(quote)


def mark_private(session: Session, team_id: str, channel_id: str) -> int:
    """A conversation became private: its quotes are private-origin from now on."""
    result = cast(CursorResult[Any], session.execute(update(Quote).where(
        Quote.team_id == team_id, Quote.channel_id == channel_id, Quote.is_private.is_(False))
        .values(is_private=True, updated_at=utcnow())))
    return int(result.rowcount or 0)
