"""The evidence trail: quotes shown, posted or shared into conversations (the weekly digest
reports it, ``@voicebot evidence`` lists a thread's, a quote's full view says where it was
cited)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from store.clock import Clock, system_clock
from store.db import db_errors
from store.queries import asks, uses
from store.queries import quotes as q
from store.queries.uses import POSTED, SHARED, SHOWN, Citation

__all__ = ["POSTED", "SHARED", "SHOWN", "Citation", "Usage"]


class Usage:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock = system_clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def _begin(self) -> AbstractContextManager[Connection | Session]:
        """A Core connection in a transaction for the records written after each answer
        (about a third of an ORM session's CPU for both), or a session when the factory
        has no single engine."""
        bind = self.sessions.kw.get("bind")
        return bind.begin() if isinstance(bind, Engine) else self.sessions.begin()

    @db_errors
    def record_use(self, team_id: str, quote_ids: Sequence[int], kind: str,
                   user_id: str | None, channel_id: str | None,
                   thread_ts: str | None = None) -> None:
        """Remember that quotes were shown to one person (``uses.SHOWN``), posted in a
        conversation (``uses.POSTED``) or shared into it (``uses.SHARED``)."""
        if not quote_ids:
            return
        now = self.clock()
        with self._begin() as session:
            uses.record(session, team_id, quote_ids, kind=kind, user_id=user_id,
                        channel_id=channel_id, thread_ts=thread_ts, at=now)

    @db_errors
    def thread_evidence(self, team_id: str, channel_id: str, thread_ts: str,
                        ) -> list[tuple[q.QuoteView, Citation]]:
        """Every quote brought into a thread so far (still stored), first brought first."""
        with self.sessions() as session:
            cited = uses.in_thread(session, team_id, channel_id, thread_ts)
            views = q.views(session, team_id, [c.quote_id for c in cited])
        return [(views[c.quote_id], c) for c in cited if c.quote_id in views]

    @db_errors
    def citations(self, team_id: str, quote_id: int) -> list[Citation]:
        """Where a quote was posted or shared, newest first (the caller decides which of
        those conversations its reader may see)."""
        with self.sessions() as session:
            return uses.citations(session, team_id, quote_id)

    @db_errors
    def record_ask(self, team_id: str, topic: str, *, channel_id: str | None, public: bool,
                   matches: int, newest_at: datetime | None) -> None:
        """Remember that a topic was looked up and how recent its newest quote was."""
        with self._begin() as session:
            asks.record(session, team_id, topic, channel_id=channel_id, public=public,
                        matches=matches, newest_at=newest_at, at=self.clock())
