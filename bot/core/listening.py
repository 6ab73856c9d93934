"""Listening in shared channels: where it is on, turning it on and off, and the one-time
announcement. Saving what is heard goes through :class:`bot.core.capture.Capture`; which
messages are worth keeping is :mod:`bot.core.substance`.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from store.clock import Clock, system_clock
from store.db import db_errors
from store.queries import listening as lq
from store.queries.listening import ListeningState

__all__ = ["Listening", "ListeningState"]

#: Channels whose on/off state is cached; past this the cache starts over (every message
#: in every channel the bot is in asks, so it must not grow with them for ever).
MAX_CACHED = 5_000


class Listening:
    """``is_on`` is cached for ``ttl`` seconds (every message event asks); a change made on
    this process is seen at once, one made on another replica within ``ttl``."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock = system_clock,
                 ttl: float = 10.0) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def _remember(self, team_id: str, channel_id: str, on: bool) -> None:
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[(team_id, channel_id)] = (time.monotonic(), on)

    @db_errors
    def is_on(self, team_id: str, channel_id: str) -> bool:
        with self._lock:
            hit = self._cache.get((team_id, channel_id))
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        on = self.state(team_id, channel_id).enabled
        self._remember(team_id, channel_id, on)
        return on

    @db_errors
    def state(self, team_id: str, channel_id: str) -> ListeningState:
        with self.sessions() as session:
            return lq.state(session, team_id, channel_id)

    @db_errors
    def turn(self, team_id: str, channel_id: str, on: bool, *, by: str) -> ListeningState:
        """Turn listening on or off in ``channel_id``; who may is the caller's check."""
        with self.sessions.begin() as session:
            state = lq.set_enabled(session, team_id, channel_id, on, by=by, now=self.clock())
        self._remember(team_id, channel_id, on)
        return state

    @db_errors
    def claim_announcement(self, team_id: str, channel_id: str) -> bool:
        """True once per channel, ever (across replicas): the caller posts the announcement."""
        with self.sessions.begin() as session:
            return lq.claim_announcement(session, team_id, channel_id, self.clock())

    @db_errors
    def announcement_failed(self, team_id: str, channel_id: str) -> None:
        """The channel could not be told: listening goes back off, the announcement is owed."""
        with self.sessions.begin() as session:
            lq.release_announcement(session, team_id, channel_id)
        self._remember(team_id, channel_id, False)

    @db_errors
    def channels(self, team_id: str) -> list[str]:
        """Channels where listening is on."""
        with self.sessions() as session:
            return lq.enabled_channels(session, team_id)
