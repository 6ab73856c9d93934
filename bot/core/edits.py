"""Changes to a stored quote: its Slack message edited, its capturer's review, attribution
details, and its conversation turning private. The SQL is in :mod:`store.queries.edits`."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from bot.core.vectors import Encoder, emotion_fields
from store.clock import Clock, system_clock
from store.db import db_errors
from store.errors import InvalidQuote
from store.queries import edits
from store.queries.quotes import QuoteView, text_problem, view_of_message
from store.retrieval.embeddings import to_blob
from store.retrieval.index import IndexRegistry

log = logging.getLogger(__name__)

#: What ``update_details`` may change (never the words).
DETAIL_FIELDS = frozenset({"speaker_name", "company", "segment", "source_kind", "emotion",
                           "first_hand", "relayed_by", "tags", "shareable", "said_at",
                           "emotion_by"})


class Edits:
    def __init__(self, sessions: sessionmaker[Session], encoder: Encoder,
                 indexes: IndexRegistry, clock: Clock = system_clock) -> None:
        """``clock`` dates the revisions an edit keeps."""
        self.sessions = sessions
        self.encoder = encoder
        self.indexes = indexes
        self.clock = clock

    @db_errors
    def edit_message(self, team_id: str, channel_id: str, ts: str,
                     new_text: str) -> QuoteView | None:
        """The Slack message behind a quote was edited.

        A whole-message quote takes the new words when they pass the capture checks
        (:func:`store.queries.quotes.text_problem`); its old words are kept as a revision. An
        excerpt stays as it is while its words are still in the message. Otherwise the saved
        words stay and the quote is flagged ``source_changed`` for its capturer to review.

        Returns the quote when this edit changed its words or newly flagged it (then
        ``source_changed`` is True), else None.
        """
        with self.sessions() as session:
            quote = view_of_message(session, team_id, channel_id, ts)
        if quote is None or (quote.is_excerpt and quote.text in new_text):
            return None
        follows = not quote.is_excerpt and text_problem(new_text) is None
        if follows and quote.text == new_text and not quote.source_changed:
            return None
        if not follows:
            with self.sessions.begin() as session:
                flagged = edits.flag_message_changed(session, team_id, channel_id, ts)
            if flagged is not None:
                log.info("quote kept; its message changed", extra={
                    "team": team_id, "quote_id": flagged.id, "excerpt": flagged.is_excerpt})
            return flagged
        vecs, guesses = self.encoder.encode([new_text])
        vec = vecs[0]
        with self.sessions.begin() as session:  # the same words again clear the flag
            result = edits.replace_words(
                session, team_id, channel_id, ts, new_text, now=self.clock(),
                embedding=to_blob(vec), model=self.encoder.model,
                emotion=emotion_fields(guesses[0]) if guesses else None)
        if result is not None:
            self.indexes.get(team_id).upsert([result.id], vec[None, :])
        return result

    @db_errors
    def keep_as_saved(self, team_id: str, quote_id: int) -> QuoteView | None:
        """The capturer reviewed a quote whose message changed and keeps it: clear the flag."""
        with self.sessions.begin() as session:
            return edits.clear_message_changed(session, team_id, quote_id)

    @db_errors
    def update_details(self, team_id: str, quote_id: int, **changes: object) -> QuoteView:
        """Change attribution fields (never the words) of a quote."""
        unknown = set(changes) - DETAIL_FIELDS
        if unknown:
            raise InvalidQuote(f"cannot change {', '.join(sorted(unknown))} of a quote")
        with self.sessions.begin() as session:
            quote = edits.set_details(session, team_id, quote_id, changes)
            if quote is None:
                raise InvalidQuote(f"quote {quote_id} does not exist in this workspace")
            return quote

    @db_errors
    def mark_conversation_private(self, team_id: str, channel_id: str) -> int:
        """The conversation became private: its quotes stop being shown elsewhere."""
        with self.sessions.begin() as session:
            return edits.mark_private(session, team_id, channel_id)
