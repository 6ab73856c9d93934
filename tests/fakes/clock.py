"""A clock tests set by hand, so no test depends on today's date."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

#: The date every test lives on unless it says otherwise (a Wednesday).
TEST_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """Callable like :func:`store.clock.system_clock`; moves only when told to."""

    def __init__(self, now: datetime = TEST_NOW) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        with self._lock:
            self._now = now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now
