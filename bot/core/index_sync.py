"""Keep this process's indexes in step with the database, for several replicas.

Each replica polls for quotes changed since its high-water mark (``updated_at``) and for
deletions recorded in the audit log since the last entry it saw. A quote captured or
deleted through one replica is reflected in every other within one poll interval.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store.models import AuditEntry, Quote
from store.retrieval.embeddings import Embedder, from_blob
from store.retrieval.index import IndexRegistry

log = logging.getLogger(__name__)
OVERLAP = timedelta(seconds=5)  # clock skew between writers; re-reading is harmless


class IndexSync:
    def __init__(self, sessions: sessionmaker[Session], embedder: Embedder,
                 indexes: IndexRegistry) -> None:
        self.sessions = sessions
        self.embedder = embedder
        self.indexes = indexes
        with sessions() as session:
            self.updated_since: datetime | None = session.scalar(select(func.max(
                Quote.updated_at)))
            self.audit_since: int = session.scalar(select(func.max(AuditEntry.id))) or 0

    def poll(self) -> tuple[int, int]:
        """Apply changes made elsewhere; returns (upserted, removed)."""
        with self.sessions() as session:
            stmt = select(Quote.id, Quote.team_id, Quote.embedding, Quote.embedding_model,
                          Quote.updated_at)
            if self.updated_since is not None:
                stmt = stmt.where(Quote.updated_at > self.updated_since - OVERLAP)
            changed = session.execute(stmt.order_by(Quote.updated_at).limit(10_000)).all()
            removed = session.execute(
                select(AuditEntry.id, AuditEntry.team_id, AuditEntry.quote_id)
                .where(AuditEntry.id > self.audit_since, AuditEntry.quote_id.is_not(None))
                .order_by(AuditEntry.id)).all()
        upserted = 0
        for row in changed:
            if row.embedding is not None and row.embedding_model == self.embedder.name:
                self.indexes.get(row.team_id).upsert([row.id], from_blob(row.embedding)[None, :])
                upserted += 1
            if self.updated_since is None or row.updated_at > self.updated_since:
                self.updated_since = row.updated_at
        for entry in removed:
            self.indexes.get(entry.team_id).remove([entry.quote_id])
            self.audit_since = entry.id
        return upserted, len(removed)
