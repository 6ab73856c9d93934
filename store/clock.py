"""Time as the application sees it: one injectable clock.

Every domain timestamp (when a quote was captured, used, deleted; which week a digest
covers) comes from a :data:`Clock` passed in at wiring time, so tests fix the date instead
of depending on today's. ``updated_at`` stays on the wall clock: it is the replicas' sync
high-water mark, not a fact about a quote.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def months_before(now: datetime, months: int) -> datetime:
    """``now`` less whole calendar months (day clamped to the target month's length)."""
    year, month = divmod(now.month - 1 - months, 12)
    year, month = now.year + year, month + 1
    for day in range(now.day, 0, -1):
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return now  # unreachable: day 1 always exists
