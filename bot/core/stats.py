"""Counts for App Home (the SQL is :mod:`store.queries.stats`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from store.queries import stats
from store.queries.stats import Stats

__all__ = ["Stats", "workspace_stats"]


def workspace_stats(sessions: sessionmaker[Session], team_id: str, now: datetime) -> Stats:
    """All quotes, the 7 days before ``now``, people and companies of ``team_id``."""
    with sessions() as session:
        return stats.workspace_stats(session, team_id, now)
