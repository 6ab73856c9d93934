"""Captures that wait in the database while the server is too busy to run them.

A capture reaction is four ids (workspace, channel, message, person). When every capture
worker is busy, the bot keeps those ids in ``deferred_captures`` instead of in memory, and
runs them, oldest first, as workers free up (any replica may). A flood of reactions then
costs rows in the database, not memory, and no capture is lost; running one twice is
harmless (the message is already saved).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from store.clock import Clock, system_clock
from store.db import db_errors
from store.queries import deferred


@dataclass(frozen=True)
class Deferred:
    team_id: str
    channel_id: str
    message_ts: str
    user_id: str


class CaptureBacklog:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock = system_clock) -> None:
        self.sessions = sessions
        self.clock = clock

    @db_errors
    def defer(self, capture: Deferred) -> None:
        with self.sessions.begin() as session:
            deferred.add(session, team_id=capture.team_id, channel_id=capture.channel_id,
                         message_ts=capture.message_ts, user_id=capture.user_id,
                         received_at=self.clock())

    @db_errors
    def claim(self, limit: int) -> list[Deferred]:
        """Up to ``limit`` of the oldest deferred captures, removed from the backlog: each is
        claimed by one replica only."""
        if limit <= 0:
            return []
        claimed: list[Deferred] = []
        with self.sessions.begin() as session:
            for row in deferred.oldest(session, limit):
                found = Deferred(row.team_id, row.channel_id, row.message_ts, row.user_id)
                if deferred.take(session, row.id):
                    claimed.append(found)
        return claimed

    @db_errors
    def count(self) -> int:
        with self.sessions() as session:
            return deferred.count(session)
