"""What changed since a replica's high-water marks: quotes updated after a time, and
removals in the audit log after an entry id. Functions take a Session and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import AuditEntry, Quote


@dataclass(frozen=True)
class Changed:
    id: int
    team_id: str
    embedding: bytes | None
    embedding_model: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Removed:
    audit_id: int
    team_id: str
    quote_id: int


def high_water(session: Session) -> tuple[datetime | None, int]:
    """The latest quote change and the latest audit entry id (0 when none)."""
    updated = session.scalar(select(func.max(Quote.updated_at)))
    audit = session.scalar(select(func.max(AuditEntry.id))) or 0
    return updated, int(audit)


def changed_after(session: Session, since: datetime | None,
                  limit: int = 10_000) -> list[Changed]:
    """Quotes updated after ``since`` (all when None), oldest change first."""
    stmt = select(Quote.id, Quote.team_id, Quote.embedding, Quote.embedding_model,
                  Quote.updated_at)
    if since is not None:
        stmt = stmt.where(Quote.updated_at > since)
    rows = session.execute(stmt.order_by(Quote.updated_at).limit(limit)).all()
    return [Changed(r.id, r.team_id, r.embedding, r.embedding_model, r.updated_at)
            for r in rows]


def removed_after(session: Session, audit_id: int) -> list[Removed]:
    """Quote removals logged after entry ``audit_id``, in log order."""
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.team_id, AuditEntry.quote_id)
        .where(AuditEntry.id > audit_id, AuditEntry.quote_id.is_not(None))
        .order_by(AuditEntry.id)).all()
    return [Removed(r.id, r.team_id, r.quote_id) for r in rows]
