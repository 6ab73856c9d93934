"""Removing quotes: one quote, its deleted Slack message, everything from one person (a
deletion request), a whole workspace. Each removal is audited (who, never the words) and
the index follows the database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from store.clock import Clock, system_clock
from store.db import db_errors
from store.policy import may_remove_own_words
from store.queries import audit, people, voices
from store.queries import quotes as q
from store.retrieval.index import IndexRegistry

log = logging.getLogger(__name__)


class Deletion:
    def __init__(self, sessions: sessionmaker[Session], indexes: IndexRegistry,
                 clock: Clock = system_clock) -> None:
        """``clock`` dates the audit entries."""
        self.sessions = sessions
        self.indexes = indexes
        self.clock = clock

    @db_errors
    def delete(self, team_id: str, quote_id: int, *, by: str) -> bool:
        """Remove a quote, its history and its vector; audit who did it (not the words)."""
        return self._delete_many(team_id, [quote_id], by=by, action="delete") == 1

    @db_errors
    def delete_message(self, team_id: str, channel_id: str, ts: str) -> bool:
        """The Slack message was deleted (or replaced by Slack's placeholder): the quote goes
        too."""
        with self.sessions() as session:
            quote = q.view_of_message(session, team_id, channel_id, ts)
        return quote is not None and self.delete(team_id, quote.id,
                                                 by="slack:message_deleted")

    @db_errors
    def remove_own_words(self, team_id: str, channel_id: str, ts: str, user_id: str) -> bool:
        """The author of a saved Slack message asked for its quote to go (the removal emoji);
        done only when the policy says the words are theirs."""
        with self.sessions() as session:
            quote = q.view_of_message(session, team_id, channel_id, ts)
        if quote is None or not may_remove_own_words(quote, user_id):
            return False
        return self._delete_many(team_id, [quote.id], by=user_id,
                                 action="speaker_removed") == 1

    @db_errors
    def find_person(self, team_id: str, who: str) -> people.PersonReport:
        """What ``forget_speaker`` would delete, and how many other quotes mention ``who``
        inside their words (not deleted: a person reviews those)."""
        with self.sessions() as session:
            matches = people.find_person(session, team_id, who)
            matched = {m.id for m in matches}
            mentions = [i for i in people.text_contains(session, team_id, who)
                        if i not in matched]
        return people.PersonReport(tuple(matches), len(mentions))

    @db_errors
    def forget_speaker(self, team_id: str, speaker: str, *, by: str,
                       dry_run: bool = False) -> int:
        """Delete everything from one person (by name or Slack user id, wherever the quote
        names them: speaker, other attribution fields, tags), for a deletion request.
        Returns how many quotes were (or, with ``dry_run``, would be) removed."""
        ids = [m.id for m in self.find_person(team_id, speaker).matches]
        if dry_run or not ids:
            return len(ids)
        return self._delete_many(team_id, ids, by=by, action="forget")

    @db_errors
    def purge_team(self, team_id: str, *, by: str) -> int:
        """Delete every quote of a workspace (on uninstall, when configured to)."""
        with self.sessions() as session:
            ids = q.ids(session, team_id)
        removed = self._delete_many(team_id, ids, by=by, action="purge") if ids else 0
        self.indexes.drop(team_id)
        return removed

    def _delete_many(self, team_id: str, ids: Sequence[int], *, by: str, action: str) -> int:
        with self.sessions.begin() as session:
            present = self.remove_in(session, team_id, ids, by=by, action=action)
        self.unindex(team_id, present, by=by, action=action)
        return len(present)

    def remove_in(self, session: Session, team_id: str, ids: Sequence[int], *, by: str,
                  action: str) -> list[int]:
        """Delete, relink and audit inside the caller's transaction (another use case's, such
        as undoing an import); call :meth:`unindex` with the result once it commits."""
        present = q.present(session, team_id, ids) if ids else []
        q.delete_ids(session, team_id, present)
        voices.relink(session, team_id, present)
        audit.record_removals(session, team_id, present, actor=by, action=action,
                              at=self.clock())
        return present

    def unindex(self, team_id: str, removed: Sequence[int], *, by: str, action: str) -> None:
        """Drop removed quotes' vectors from the index (after the removal committed)."""
        self.indexes.get(team_id).remove(list(removed))
        log.info("quotes deleted", extra={"team": team_id, "count": len(removed), "by": by,
                                          "action": action})
