"""Digest claims: one row per (team, channel, period); inserting it is the claim, and the
unique constraint decides races between processes (``bot.slack.digest_delivery``).

Functions take a Session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.errors import AlreadyStored
from store.models import DigestClaim


@dataclass(frozen=True)
class Claim:
    id: int
    status: str  # claimed | posted | failed
    claimed_at: datetime  # timezone-aware
    attempts: int


def claim(session: Session, *, team_id: str, channel_id: str, start: datetime,
           end: datetime, worker: str, now: datetime) -> int:
    """Claim the digest; :class:`AlreadyStored` when someone already has (the session must
    then be rolled back)."""
    claim = DigestClaim(team_id=team_id, channel_id=channel_id, period_start=start,
                        period_end=end, status="claimed", claimed_by=worker, claimed_at=now,
                        attempts=1)
    session.add(claim)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyStored("this digest is already claimed") from exc
    return claim.id


def find(session: Session, team_id: str, channel_id: str, start: datetime) -> Claim | None:
    claim = session.scalar(select(DigestClaim).where(
        DigestClaim.team_id == team_id, DigestClaim.channel_id == channel_id,
        DigestClaim.period_start == start))
    if claim is None:
        return None
    at = claim.claimed_at
    return Claim(claim.id, claim.status, at if at.tzinfo else at.replace(tzinfo=timezone.utc),
                 claim.attempts)


def take_over(session: Session, claim: Claim, *, worker: str, now: datetime) -> bool:
    """Claim again a claim seen as ``claim``; False when another process changed it first."""
    won = cast(CursorResult[Any], session.execute(update(DigestClaim).where(
        DigestClaim.id == claim.id, DigestClaim.status == claim.status,
        DigestClaim.attempts == claim.attempts).values(
        status="claimed", claimed_by=worker, claimed_at=now,
        attempts=claim.attempts + 1))).rowcount
    return won == 1


def mark_posted(session: Session, claim_id: int, *, ts: str, at: datetime) -> None:
    session.execute(update(DigestClaim).where(DigestClaim.id == claim_id).values(
        status="posted", posted_at=at, message_ts=ts, last_error=None))


def mark_failed(session: Session, claim_id: int, error: str) -> None:
    session.execute(update(DigestClaim).where(DigestClaim.id == claim_id).values(
        status="failed", last_error=error))
