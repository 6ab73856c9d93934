"""Importing many quotes (``voicebot import``, the demo data): parsed rows stored in
committed batches, encoded once per batch; rows that are stored quotes update them
(:mod:`bot.core.reimport`). Reading the files is :mod:`bot.core.importing`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from bot.core.import_log import ImportRun
from bot.core.reimport import Pairing, pair
from bot.core.vectors import Encoder, NewVectors, emotion_fields
from store.clock import Clock, system_clock
from store.db import db_errors
from store.errors import InvalidQuote
from store.queries import edits, imports, new_quotes
from store.queries.quotes import NewQuote, to_row
from store.retrieval.embeddings import to_blob
from store.retrieval.index import IndexRegistry

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowProblem:
    """An input row that was not imported, with where it was and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: quotes added, stored quotes updated from a corrected row, rows
    already stored as they are (or repeated in the file), rows not imported."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple[RowProblem, ...] = ()

    @property
    def duplicates(self) -> int:
        return self.unchanged


class Importer:
    def __init__(self, sessions: sessionmaker[Session], encoder: Encoder, vectors: NewVectors,
                 indexes: IndexRegistry, clock: Clock = system_clock) -> None:
        self.sessions = sessions
        self.encoder = encoder
        self.vectors = vectors
        self.indexes = indexes
        self.clock = clock

    @db_errors
    def import_quotes(self, items: Iterable[tuple[int, NewQuote | RowProblem]], *,
                      run: ImportRun | None = None, batch_size: int = 512,
                      progress: Progress | None = None) -> ImportSummary:
        """Import parsed rows: new quotes are added, rows that are stored quotes (see
        :mod:`bot.core.reimport`) update their attribution, the rest is counted unchanged.

        ``items`` yields ``(line, NewQuote)`` or ``(line, RowProblem)``. Changes are
        committed in batches, so an interrupted import leaves whole batches and a rerun
        resumes. With ``run`` (:meth:`ImportLog.begin`), added quotes and updated quotes'
        earlier attribution are recorded for ``voicebot imports`` and its undo.
        """
        rejected: list[RowProblem] = []
        valid: list[tuple[int, NewQuote]] = []
        for line, item in items:
            if isinstance(item, RowProblem):
                rejected.append(item)
                continue
            try:
                valid.append((line, item.validated()))
            except InvalidQuote as exc:
                rejected.append(RowProblem(line, str(exc)))
        if progress and rejected:
            progress(len(rejected))
        added = updated = unchanged = 0
        by_team: dict[str, dict[str, tuple[int, NewQuote]]] = {}
        for line, item in valid:
            by_team.setdefault(item.team_id, {}).setdefault(item.dedupe_key, (line, item))
        unchanged += len(valid) - sum(len(v) for v in by_team.values())
        if progress and unchanged:
            progress(unchanged)
        for team_id, keyed in by_team.items():
            rows = list(keyed.values())
            pairings = self._pair(team_id, [it for _, it in rows], run)
            fresh = [p.item for p in pairings if p.stored is None]
            changed = [(line, p) for (line, _), p in zip(rows, pairings) if p.stored
                       and (p.changes or p.stored.text != p.item.text)]
            same = len(pairings) - len(fresh) - len(changed)
            unchanged += same
            if progress and same:
                progress(same)
            added += self._add_all(team_id, fresh, batch_size, run, progress)
            for start in range(0, len(changed), batch_size):
                corrected = changed[start:start + batch_size]
                done, problems = self._update(team_id, corrected, run)
                updated += done
                rejected.extend(problems)
                if progress:
                    progress(len(corrected))
        return ImportSummary(added=added, updated=updated, unchanged=unchanged,
                             rejected=tuple(sorted(rejected, key=lambda p: p.line)))

    def _pair(self, team_id: str, items: list[NewQuote],
              run: ImportRun | None) -> list[Pairing]:
        with self.sessions() as session:
            by_key = imports.by_keys(session, team_id, [it.dedupe_key for it in items])
            wanted = [it.text for it in items if it.dedupe_key not in by_key
                      and it.dedupe_key.startswith("sha256:")]
            by_words = imports.by_words(session, team_id, wanted) if wanted else {}
        return pair(items, by_key, by_words, run.file_name if run else None)

    def _add_all(self, team_id: str, fresh: list[NewQuote], batch_size: int,
                 run: ImportRun | None, progress: Progress | None) -> int:
        """Add ``fresh`` in batches: each batch is encoded while the batch before it is
        stored (:meth:`_store`, on one other thread, in order), so the database work and the
        near-duplicate links run beside the model instead of after it; the last batch (the
        only one of a small import) is stored on this thread, with nothing left to encode
        beside it. A batch is reported to ``progress`` once stored; a failure stops the
        import at that batch, and the batches before it stay committed."""
        added = 0

        def stored(count: int, size: int) -> None:
            nonlocal added
            added += count
            if progress:
                progress(size)

        batches = [fresh[start:start + batch_size] for start in range(0, len(fresh), batch_size)]
        with ThreadPoolExecutor(1, thread_name_prefix="voicebot-import-store") as storer:
            pending: tuple[Future[int], int] | None = None
            for n, batch in enumerate(batches, 1):
                encoded = self.encoder.encode([it.text for it in batch])
                if pending is not None:
                    stored(pending[0].result(), pending[1])  # a failed batch raises here
                    pending = None
                if n == len(batches):
                    stored(self._store(team_id, batch, *encoded, run), len(batch))
                else:
                    pending = storer.submit(self._store, team_id, batch, *encoded, run), len(batch)
        return added

    def _store(self, team_id: str, fresh: list[NewQuote], vecs: np.ndarray,
               guesses: Sequence[Any] | None, run: ImportRun | None) -> int:
        """Insert ``fresh`` (encoded as ``vecs`` with ``guesses``) in one transaction, then
        index them and link re-captured words."""
        now = self.clock()
        rows = [to_row(it, embedding=to_blob(v), model=self.encoder.model, now=now)
                for it, v in zip(fresh, vecs)]
        if guesses is not None:  # as Encoder.with_emotion, on the rows (no copy of each item)
            for row, it, guess in zip(rows, fresh, guesses):
                if not it.emotion:
                    row.update(emotion_fields(guess))
        if run is not None:
            for row in rows:
                row["import_id"] = run.id
        with self.sessions.begin() as session:
            ids = new_quotes.add_many(session, rows)
        self.vectors.add(team_id, ids, vecs, [it.text for it in fresh])
        return len(ids)

    def _update(self, team_id: str, batch: list[tuple[int, Pairing]],
                run: ImportRun | None) -> tuple[int, list[RowProblem]]:
        """Corrected rows: new attribution; new words too for a row with a stable key (the
        old words kept as a revision, the vector replaced)."""
        reworded = [p for _, p in batch if p.stored and p.stored.text != p.item.text]
        vectors: dict[int, np.ndarray] = {}
        emotions: dict[int, dict[str, object] | None] = {}
        if reworded:
            vecs, guesses = self.encoder.encode([p.item.text for p in reworded])
            for i, p in enumerate(reworded):
                assert p.stored is not None
                vectors[p.stored.id] = vecs[i]
                emotions[p.stored.id] = emotion_fields(guesses[i]) if guesses else None
        problems: list[RowProblem] = []
        done = 0
        moved: list[int] = []
        with self.sessions.begin() as session:
            for line, p in batch:
                stored = p.stored
                assert stored is not None
                if stored.id in vectors:
                    try:  # refused before anything changes (an excerpt keeps its words)
                        edits.replace_passage(
                            session, team_id, stored.dedupe_key, p.item.text,
                            now=self.clock(), embedding=to_blob(vectors[stored.id]),
                            model=self.encoder.model, emotion=emotions[stored.id],
                            position={})
                    except InvalidQuote as exc:
                        problems.append(RowProblem(line, f"quote {stored.id}: {exc}"))
                        continue
                    moved.append(stored.id)
                imports.set_attribution(session, team_id, stored.id, p.changes,
                                        key=p.item.dedupe_key,
                                        import_id=run.id if run else None)
                done += 1
        if moved:
            self.indexes.get(team_id).upsert(moved, np.stack([vectors[i] for i in moved]))
        return done, problems
