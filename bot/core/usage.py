"""Remembering that quotes were shown or shared (the weekly digest reports it)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from store.clock import Clock, system_clock
from store.db import db_errors
from store.queries import uses


class Usage:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock = system_clock) -> None:
        self.sessions = sessions
        self.clock = clock

    @db_errors
    def record_use(self, team_id: str, quote_ids: Sequence[int], kind: str,
                   user_id: str | None, channel_id: str | None) -> None:
        """Remember that quotes were shown (``kind="shown"``) or shared (``"shared"``)."""
        if not quote_ids:
            return
        now = self.clock()
        with self.sessions.begin() as session:
            uses.record(session, team_id, quote_ids, kind=kind, user_id=user_id,
                        channel_id=channel_id, at=now)
