"""Quote uses, the evidence trail: which quotes went into which conversation and thread,
when and by whom (``/voice``, Share, @mention, an accepted offer). The text is never copied;
a use links to its quote and goes when the quote is deleted.

Functions take a Session (:func:`record` also a Core connection) and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, distinct, func, insert, select
from sqlalchemy.orm import Session

from store.models import QuoteUse

# Kinds of use. "shown": an answer only its asker saw; the others were posted for everyone
# in the conversation, so they are the thread's evidence.
SHOWN, POSTED, SHARED = "shown", "posted", "shared"
IN_THE_OPEN = (POSTED, SHARED)


@dataclass(frozen=True)
class Citation:
    """A quote brought into a conversation (the first time, per conversation and thread)."""

    quote_id: int
    channel_id: str
    thread_ts: str | None
    at: datetime
    user_id: str | None


def record(session: Session | Connection, team_id: str, quote_ids: Iterable[int], *,
           kind: str, user_id: str | None, channel_id: str | None, at: datetime,
           thread_ts: str | None = None) -> None:
    """One Core INSERT of every row (``session`` may be a Core connection: the answer's
    thread records the use on one after the reply is sent, with no ORM unit of work)."""
    rows = [dict(team_id=team_id, quote_id=i, kind=kind, user_id=user_id,
                 channel_id=channel_id, thread_ts=thread_ts, used_at=at) for i in quote_ids]
    if rows:
        session.execute(insert(QuoteUse), rows)


def most_used(session: Session, team_id: str, start: datetime, end: datetime,
              limit: int = 20) -> list[tuple[int, int]]:
    """(quote id, debates) in ``[start, end)``: the number of distinct conversations and
    threads each quote was brought into, most first."""
    debates = func.count(distinct(func.coalesce(QuoteUse.channel_id, "") + ":"
                                  + func.coalesce(QuoteUse.thread_ts, "")))
    rows = session.execute(
        select(QuoteUse.quote_id, debates).where(
            QuoteUse.team_id == team_id, QuoteUse.used_at >= start, QuoteUse.used_at < end)
        .group_by(QuoteUse.quote_id).order_by(debates.desc(), QuoteUse.quote_id)
        .limit(limit)).all()
    return [(int(qid), int(n)) for qid, n in rows]


def in_thread(session: Session, team_id: str, channel_id: str, thread_ts: str,
              limit: int = 100) -> list[Citation]:
    """The quotes posted or shared in one thread, in the order they first came in, with who
    brought each in first."""
    rows = session.execute(
        select(QuoteUse.quote_id, QuoteUse.used_at, QuoteUse.user_id).where(
            QuoteUse.team_id == team_id, QuoteUse.channel_id == channel_id,
            QuoteUse.thread_ts == thread_ts, QuoteUse.kind.in_(IN_THE_OPEN))
        .order_by(QuoteUse.used_at, QuoteUse.id).limit(5000)).all()
    first: dict[int, Citation] = {}
    for quote_id, at, user_id in rows:
        first.setdefault(int(quote_id), Citation(int(quote_id), channel_id, thread_ts, at,
                                                 user_id))
    return list(first.values())[:limit]


def citations(session: Session, team_id: str, quote_id: int,
              limit: int = 200) -> list[Citation]:
    """Where one quote was posted or shared: one row per conversation and thread, newest
    first."""
    first = func.min(QuoteUse.used_at)
    rows = session.execute(
        select(QuoteUse.channel_id, QuoteUse.thread_ts, first).where(
            QuoteUse.team_id == team_id, QuoteUse.quote_id == quote_id,
            QuoteUse.kind.in_(IN_THE_OPEN), QuoteUse.channel_id.is_not(None))
        .group_by(QuoteUse.channel_id, QuoteUse.thread_ts)
        .order_by(first.desc()).limit(limit)).all()
    return [Citation(quote_id, str(c), t, at, None) for c, t, at in rows]
