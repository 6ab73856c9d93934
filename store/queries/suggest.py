"""Offers of evidence: the channels where they are on, and the offers made. Functions take
a Session and never commit (:func:`claim_offer` uses a savepoint)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import EvidenceOffer, SuggestChannel

OUTCOMES = ("shown", "shared", "not_helpful")


@dataclass(frozen=True)
class Offer:
    id: int
    team_id: str
    channel_id: str
    thread_ts: str
    user_id: str
    topic: str
    matches: int
    people: int
    outcome: str | None


@dataclass(frozen=True)
class OfferCounts:
    made: int
    shown: int
    shared: int
    not_helpful: int


def _offer(row: EvidenceOffer) -> Offer:
    return Offer(row.id, row.team_id, row.channel_id, row.thread_ts, row.user_id, row.topic,
                 row.matches, row.people, row.outcome)


def set_channel(session: Session, team_id: str, channel_id: str, enabled: bool, *,
                by: str, at: datetime) -> None:
    row = session.get(SuggestChannel, (team_id, channel_id))
    if row is None:
        session.add(SuggestChannel(team_id=team_id, channel_id=channel_id, enabled=enabled,
                                   changed_by=by, changed_at=at))
    else:
        row.enabled, row.changed_by, row.changed_at = enabled, by, at


def channel_state(session: Session, team_id: str,
                  channel_id: str) -> tuple[bool, str | None, datetime | None]:
    row = session.get(SuggestChannel, (team_id, channel_id))
    return (False, None, None) if row is None else (row.enabled, row.changed_by, row.changed_at)


def channels_on(session: Session, team_id: str, limit: int = 100) -> list[str]:
    return list(session.scalars(
        select(SuggestChannel.channel_id).where(SuggestChannel.team_id == team_id,
                                                SuggestChannel.enabled.is_(True))
        .order_by(SuggestChannel.changed_at).limit(limit)))


def offers_since(session: Session, team_id: str, channel_id: str, since: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(EvidenceOffer).where(
        EvidenceOffer.team_id == team_id, EvidenceOffer.channel_id == channel_id,
        EvidenceOffer.offered_at >= since)) or 0)


def thread_has_offer(session: Session, team_id: str, channel_id: str, thread_ts: str) -> bool:
    return session.scalar(select(EvidenceOffer.id).where(
        EvidenceOffer.team_id == team_id, EvidenceOffer.channel_id == channel_id,
        EvidenceOffer.thread_ts == thread_ts)) is not None


def claim_offer(session: Session, *, team_id: str, channel_id: str, thread_ts: str,
                user_id: str, topic: str, matches: int, people: int,
                at: datetime) -> Offer | None:
    """Record the thread's offer; None when the thread already had one (another replica,
    or another claim in the same thread, got there first)."""
    row = EvidenceOffer(team_id=team_id, channel_id=channel_id, thread_ts=thread_ts,
                        user_id=user_id, topic=topic[:200], matches=matches, people=people,
                        offered_at=at)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return _offer(row)


def get_offer(session: Session, team_id: str, offer_id: int) -> Offer | None:
    row = session.get(EvidenceOffer, offer_id)
    return _offer(row) if row is not None and row.team_id == team_id else None


def set_outcome(session: Session, offer_id: int, outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    row = session.get(EvidenceOffer, offer_id)
    # "not helpful" is the strongest signal and is never overwritten; "shared" beats "shown".
    if row is not None and row.outcome != "not_helpful" and not (
            row.outcome == "shared" and outcome == "shown"):
        row.outcome = outcome


def counts(session: Session, team_id: str) -> OfferCounts:
    rows = dict(session.execute(
        select(func.coalesce(EvidenceOffer.outcome, ""), func.count())
        .where(EvidenceOffer.team_id == team_id)
        .group_by(func.coalesce(EvidenceOffer.outcome, ""))).all())
    return OfferCounts(made=sum(int(v) for v in rows.values()), shown=int(rows.get("shown", 0)),
                       shared=int(rows.get("shared", 0)),
                       not_helpful=int(rows.get("not_helpful", 0)))
