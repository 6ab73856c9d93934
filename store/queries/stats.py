"""Counts of a workspace's quotes for App Home. Functions take a Session and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Quote
from store.policy import count_people, normalize_key, person_key


@dataclass(frozen=True)
class Stats:
    quotes: int
    this_week: int
    people: int
    companies: int


def workspace_stats(session: Session, team_id: str, now: datetime) -> Stats:
    """All quotes, those of the 7 days before ``now``, people (:func:`person_key`) and
    companies (:func:`normalize_key`)."""
    week_ago = now - timedelta(days=7)
    total, recent = session.execute(
        select(func.count(), func.count().filter(Quote.captured_at >= week_ago))
        .where(Quote.team_id == team_id)).one()
    speakers = session.execute(select(Quote.speaker_user_id, Quote.speaker_name)
                               .where(Quote.team_id == team_id).distinct()).all()
    companies = session.scalars(select(Quote.company).where(
        Quote.team_id == team_id, Quote.company.is_not(None)).distinct()).all()
    people = count_people(person_key(u, n) for u, n in speakers)
    return Stats(int(total), int(recent), people,
                 len({normalize_key(c) for c in companies if c and c.strip()}))
