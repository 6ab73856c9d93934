"""Capturing one quote (the reaction, the message shortcut, ``/voice save``).

The database is written first and committed; the index follows (:mod:`bot.core.vectors`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, sessionmaker

from bot.core.vectors import Encoder, NewVectors
from store.clock import Clock, system_clock
from store.db import db_errors
from store.errors import AlreadyStored
from store.queries import new_quotes
from store.queries.quotes import NewQuote, QuoteView, to_row
from store.retrieval.embeddings import to_blob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaveResult:
    quote: QuoteView
    created: bool


class Capture:
    def __init__(self, sessions: sessionmaker[Session], encoder: Encoder, vectors: NewVectors,
                 clock: Clock = system_clock) -> None:
        """``clock`` dates the captures."""
        self.sessions = sessions
        self.encoder = encoder
        self.vectors = vectors
        self.clock = clock

    @db_errors
    def save(self, new: NewQuote) -> SaveResult:
        """Store one quote; saving the same Slack message again returns the existing one."""
        new = new.validated()
        with self.sessions() as session:
            existing = new_quotes.find_saved(session, new)
        if existing is not None:
            return SaveResult(existing, created=False)
        vecs, guesses = self.encoder.encode([new.text])
        vec, new = vecs[0], self.encoder.with_emotion([new], guesses)[0]
        try:
            with self.sessions.begin() as session:
                saved = new_quotes.add(session, to_row(new, embedding=to_blob(vec),
                                                       model=self.encoder.model,
                                                       now=self.clock()))
        except AlreadyStored:
            with self.sessions() as session:  # lost a race with a retry or a second reactor
                existing = new_quotes.find_saved(session, new)
            if existing is None:
                raise
            return SaveResult(existing, created=False)
        voices = self.vectors.add(new.team_id, [saved.id], vec[None, :])
        if voices:
            saved = replace(saved, voice_id=voices[saved.id])
        log.info("quote saved", extra={"team": new.team_id, "quote_id": saved.id,
                                       "source": new.source_kind.value})
        return SaveResult(saved, created=True)
