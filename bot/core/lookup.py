"""Reading quotes by id or by their literal words, and which workspaces the store holds."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from store.db import db_errors
from store.queries import people
from store.queries import quotes as q


class Lookup:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @db_errors
    def get(self, team_id: str, quote_id: int) -> q.QuoteView | None:
        with self.sessions() as session:
            return q.views(session, team_id, [quote_id]).get(quote_id)

    @db_errors
    def text_search(self, team_id: str, needle: str, *, limit: int) -> list[q.QuoteView]:
        """Quotes whose words contain ``needle`` literally (case-insensitive), newest first."""
        with self.sessions() as session:
            ids = people.text_contains(session, team_id, needle)[:limit]
            found = q.views(session, team_id, ids)
        return [found[i] for i in ids if i in found]

    @db_errors
    def teams(self) -> list[str]:
        """Workspaces with quotes, in id order."""
        with self.sessions() as session:
            return q.teams(session)

    @db_errors
    def count(self, team_id: str | None = None) -> int:
        with self.sessions() as session:
            return q.count(session, team_id)
