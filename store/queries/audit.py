"""The audit log: who removed which quotes and when (never the words or the speaker).

Replicas also read it to drop deleted quotes from their indexes (:mod:`store.queries.sync`).
Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from store.models import AuditEntry


def record_removals(session: Session, team_id: str, quote_ids: Iterable[int], *, actor: str,
                    action: str, at: datetime) -> None:
    session.add_all(AuditEntry(team_id=team_id, actor=actor, action=action, quote_id=i, at=at)
                    for i in quote_ids)
