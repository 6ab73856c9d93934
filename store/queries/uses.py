"""Quote uses: a quote shown by ``/voice`` or shared in a channel (the digest reports them).

Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import QuoteUse


def record(session: Session, team_id: str, quote_ids: Iterable[int], *, kind: str,
           user_id: str | None, channel_id: str | None, at: datetime) -> None:
    session.add_all(QuoteUse(team_id=team_id, quote_id=i, kind=kind, user_id=user_id,
                             channel_id=channel_id, used_at=at) for i in quote_ids)


def most_used(session: Session, team_id: str, start: datetime, end: datetime,
              limit: int = 20) -> list[tuple[int, int]]:
    """(quote id, uses) in ``[start, end)``, most used first."""
    rows = session.execute(
        select(QuoteUse.quote_id, func.count()).where(
            QuoteUse.team_id == team_id, QuoteUse.used_at >= start, QuoteUse.used_at < end)
        .group_by(QuoteUse.quote_id).order_by(func.count().desc()).limit(limit)).all()
    return [(int(qid), int(n)) for qid, n in rows]
