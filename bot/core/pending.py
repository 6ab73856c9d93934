"""Message text waiting for the "Save as user voice" form to be submitted.

The message text is held in the database (``pending_captures``) for a day, never in the
modal's private_metadata (too small for long messages, and it comes back from Slack): every
replica can finish the capture, only the person who opened the form (same workspace and
user, taken from the submitting request) can use it, and it is removed once the form is
submitted. Expired rows are deleted whenever a new one is written.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from store.clock import Clock, system_clock
from store.db import db_errors
from store.queries import pending

TTL = timedelta(hours=24)


class PendingTexts:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock = system_clock,
                 ttl: timedelta = TTL) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ttl = ttl

    @db_errors
    def hold(self, team_id: str, user_id: str, channel_id: str, ts: str, text: str) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            pending.remove_expired(session, now)
            pending.put(session, pending.key_for(team_id, user_id, channel_id, ts),
                        team_id=team_id, user_id=user_id, text=text,
                        expires_at=now + self.ttl)

    @db_errors
    def text(self, team_id: str, user_id: str, channel_id: str, ts: str) -> str | None:
        with self.sessions() as session:
            return pending.text_of(session, pending.key_for(team_id, user_id, channel_id, ts),
                                   team_id=team_id, user_id=user_id, now=self.clock())

    @db_errors
    def release(self, team_id: str, user_id: str, channel_id: str, ts: str) -> None:
        with self.sessions.begin() as session:
            pending.remove(session, pending.key_for(team_id, user_id, channel_id, ts))
