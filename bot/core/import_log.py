"""The record of imports (``voicebot imports``) and taking one back (``imports undo``).

Every importer records itself the same way::

    run = services.import_log.begin(team, kind="csv", file_name="notes.csv", by="ana")
    summary = services.imports.import_quotes(rows, run=run)   # or transcripts, a desk
    services.import_log.finish(run, added=..., updated=..., unchanged=..., rejected=...)

Quotes a run adds carry its id; quotes it updated keep their attribution before. Undo
removes the quotes the run added (audited like any deletion, vectors dropped from the index)
and puts back the attribution of the quotes it updated, unless they changed again since.
Words a run replaced (a row with a stable id, a corrected transcript) are not put back: the
earlier words stay in the quote's revisions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.core.deletion import Deletion
from store.clock import Clock, system_clock
from store.db import db_errors
from store.errors import StoreError
from store.queries import imports
from store.queries.imports import ImportView

__all__ = ["ImportLog", "ImportRun", "ImportView", "UndoPlan", "UndoResult"]


@dataclass(frozen=True)
class ImportRun:
    """An import in progress: pass it to the importer so what it adds is recorded."""

    id: int
    team_id: str
    file_name: str


@dataclass(frozen=True)
class UndoPlan:
    record: ImportView
    remove: int  # quotes it added, still stored
    restore: int  # quotes it updated, whose earlier attribution would be put back


@dataclass(frozen=True)
class UndoResult:
    removed: int
    restored: int
    left: int  # updated quotes changed again since: left as they are


class ImportLog:
    def __init__(self, sessions: sessionmaker[Session], deletion: Deletion,
                 clock: Clock = system_clock) -> None:
        self.sessions = sessions
        self.deletion = deletion
        self.clock = clock

    @db_errors
    def begin(self, team_id: str, *, kind: str, file_name: str, by: str) -> ImportRun:
        """Record that an import starts (``kind``: csv, jsonl, transcript, a desk's name)."""
        with self.sessions.begin() as session:
            import_id = imports.begin(session, team_id=team_id, kind=kind,
                                      file_name=file_name, run_by=by, at=self.clock())
        return ImportRun(import_id, team_id, file_name)

    @db_errors
    def finish(self, run: ImportRun, *, added: int, updated: int = 0, unchanged: int = 0,
               rejected: int = 0) -> None:
        with self.sessions.begin() as session:
            imports.finish(session, run.id, added=added, updated=updated, unchanged=unchanged,
                           rejected=rejected, at=self.clock())

    @db_errors
    def listing(self, team_id: str | None = None, *, limit: int = 100) -> list[ImportView]:
        with self.sessions() as session:
            return imports.listing(session, team_id, limit=limit)

    @db_errors
    def plan_undo(self, import_id: int, team_id: str | None = None) -> UndoPlan:
        """What undoing would do; :class:`StoreError` when there is no such import (in
        ``team_id``) or it was undone already."""
        with self.sessions() as session:
            record = imports.get(session, import_id)
            if record is None or (team_id is not None and record.team_id != team_id):
                raise StoreError(f"no import #{import_id}" + (f" in team {team_id}"
                                                              if team_id else ""))
            if record.undone_at is not None:
                raise StoreError(f"import #{import_id} was undone already "
                                 f"({record.undone_at:%Y-%m-%d %H:%M} by {record.undone_by})")
            restore = imports.updated_count(session, import_id)
        return UndoPlan(record, record.present, restore)

    @db_errors
    def undo(self, import_id: int, *, by: str, team_id: str | None = None) -> UndoResult:
        """Remove what the import added and restore what it updated, in one transaction;
        the removals are audited as ``import_undo``."""
        plan = self.plan_undo(import_id, team_id)
        team = plan.record.team_id
        with self.sessions.begin() as session:
            removed = self.deletion.remove_in(
                session, team, imports.added_ids(session, import_id), by=by,
                action="import_undo")
            restored, left = imports.restore_updates(session, team, import_id)
            imports.mark_undone(session, import_id, by=by, at=self.clock())
        self.deletion.unindex(team, removed, by=by, action="import_undo")
        return UndoResult(removed=len(removed), restored=restored, left=left)
