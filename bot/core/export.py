"""``voicebot export``: every quote of a workspace with its full attribution, in the columns
``voicebot import`` reads back (:mod:`bot.core.quote_columns`), so a team owns its data."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session, sessionmaker

from bot.core.quote_columns import record
from store.db import db_errors
from store.queries import imports
from store.queries import quotes as q


class Exporter:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @db_errors
    def count(self, team_id: str) -> int:
        with self.sessions() as session:
            return q.count(session, team_id)

    def rows(self, team_id: str, *, page: int = 1000) -> Iterator[dict[str, object]]:
        """Export rows in id order, read a page at a time (a short transaction each)."""
        after = 0
        while True:
            with self.sessions() as session:
                found = imports.export_page(session, team_id, after, page)
            if not found:
                return
            for quote, key in found:
                yield record(quote, key)
            after = found[-1][0].id
