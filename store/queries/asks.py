"""Topics asked about (``/voice``, @mentions), with how recent their newest quote was: the
digest's "argued on old evidence" line. Functions take a Session (:func:`record` also a Core
connection) and never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, or_, select
from sqlalchemy.orm import Session

from store.models import TopicAsk

TOPIC_CHARS = 200


def record(session: Session | Connection, team_id: str, topic: str, *,
           channel_id: str | None, public: bool, matches: int, newest_at: datetime | None,
           at: datetime) -> None:
    """A Core INSERT (``session`` may be a Core connection, as for ``uses.record``)."""
    session.execute(insert(TopicAsk), dict(
        team_id=team_id, channel_id=channel_id, public=public, topic=topic[:TOPIC_CHARS],
        matches=matches, newest_at=newest_at, asked_at=at))


def argued_on_old_evidence(session: Session, team_id: str, start: datetime, end: datetime,
                           old_before: datetime, channel_id: str | None,
                           limit: int = 5) -> list[tuple[str, datetime]]:
    """Topics asked in ``[start, end)`` that had matching quotes, all said before
    ``old_before``: (topic as first asked, newest quote's date), most asked first. Only
    topics asked in public channels or in ``channel_id`` itself."""
    key = func.lower(TopicAsk.topic)
    rows = session.execute(
        select(func.min(TopicAsk.topic), func.max(TopicAsk.newest_at), func.count())
        .where(TopicAsk.team_id == team_id, TopicAsk.asked_at >= start,
               TopicAsk.asked_at < end, TopicAsk.matches > 0,
               or_(TopicAsk.public.is_(True), TopicAsk.channel_id == channel_id))
        .group_by(key)
        .having(func.max(TopicAsk.newest_at) < old_before)
        .order_by(func.count().desc(), key).limit(limit)).all()
    return [(str(topic), newest) for topic, newest, _ in rows if newest is not None]
