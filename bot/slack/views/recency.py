"""How recent a topic's evidence is, in words: "newest 2 weeks ago, oldest 14 months ago",
a warning when all of it is old, and a ``since:`` nudge. Pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.search import Breadth
from store.clock import months_before

NUDGE_OLDER_THAN = timedelta(days=90)  # mixed old and recent evidence: suggest since:


def ago(when: datetime, now: datetime) -> str:
    """"today", "3 days ago", "2 weeks ago", "14 months ago", "2 years ago"."""
    days = max(0, (now - when).days)
    if days < 1:
        return "today"
    if days < 14:
        return f"{days} day{'s' * (days != 1)} ago"
    if days < 61:
        return f"{days // 7} weeks ago"
    months = days * 12 // 365
    if months < 24:
        return f"{months} months ago"
    return f"{days // 365} years ago"


def recency_line(b: Breadth, now: datetime, stale_months: int, *,
                 has_since: bool) -> str | None:
    """The line under the breadth header, or None when nothing matched."""
    if not b.matches or b.first is None or b.last is None:
        return None
    if b.last < months_before(now, stale_months):
        return (f":hourglass: No one has said this in the last {stale_months} months "
                f"(newest {ago(b.last, now)}) \u2014 worth asking again?")
    span = (f"newest {ago(b.last, now)}" if b.first == b.last or ago(b.first, now) ==
            ago(b.last, now) else f"newest {ago(b.last, now)}, oldest {ago(b.first, now)}")
    if not has_since and now - b.first > NUDGE_OLDER_THAN and now - b.last <= NUDGE_OLDER_THAN:
        recent = "30d" if now - b.last <= timedelta(days=30) else "90d"
        span += f" \u00b7 only recent ones: add `since:{recent}`"
    return span
