"""Importing many quotes (``voicebot import``, the demo data): parsed rows stored in
committed batches, encoded once per batch. Reading the files is :mod:`bot.core.importing`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.core.vectors import Encoder, NewVectors
from store.clock import Clock, system_clock
from store.db import db_errors
from store.errors import InvalidQuote
from store.queries import new_quotes
from store.queries.quotes import NewQuote, to_row
from store.retrieval.embeddings import to_blob

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowProblem:
    """An input row that was not imported, with where it was and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportSummary:
    added: int = 0
    duplicates: int = 0
    rejected: tuple[RowProblem, ...] = ()


class Importer:
    def __init__(self, sessions: sessionmaker[Session], encoder: Encoder, vectors: NewVectors,
                 clock: Clock = system_clock) -> None:
        self.sessions = sessions
        self.encoder = encoder
        self.vectors = vectors
        self.clock = clock

    @db_errors
    def import_quotes(self, items: Iterable[tuple[int, NewQuote | RowProblem]], *,
                      batch_size: int = 512, progress: Progress | None = None) -> ImportSummary:
        """Import parsed rows in committed batches; a rerun skips what is already stored.

        ``items`` yields ``(line, NewQuote)`` or ``(line, RowProblem)``. Each batch is one
        transaction, so an interrupted import leaves whole batches and resumes cleanly.
        """
        added = duplicates = 0
        rejected: list[RowProblem] = []
        batch: list[tuple[int, NewQuote]] = []

        def flush() -> None:
            nonlocal added, duplicates
            if not batch:
                return
            a, d = self._import_batch(batch)
            added, duplicates = added + a, duplicates + d
            if progress:
                progress(len(batch))
            batch.clear()

        for line, item in items:
            if isinstance(item, RowProblem):
                rejected.append(item)
                if progress:
                    progress(1)
                continue
            try:
                batch.append((line, item.validated()))
            except InvalidQuote as exc:
                rejected.append(RowProblem(line, str(exc)))
                if progress:
                    progress(1)
                continue
            if len(batch) >= batch_size:
                flush()
        flush()
        return ImportSummary(added=added, duplicates=duplicates, rejected=tuple(rejected))

    def _import_batch(self, batch: list[tuple[int, NewQuote]]) -> tuple[int, int]:
        by_team: dict[str, list[NewQuote]] = {}
        for _, item in batch:
            by_team.setdefault(item.team_id, []).append(item)
        added = duplicates = 0
        for team_id, items in by_team.items():
            unique: dict[str, NewQuote] = {}
            for item in items:
                unique.setdefault(item.dedupe_key, item)
            duplicates += len(items) - len(unique)
            with self.sessions() as session:
                known = new_quotes.existing_keys(session, team_id, list(unique))
            fresh = [it for key, it in unique.items() if key not in known]
            duplicates += len(unique) - len(fresh)
            if not fresh:
                continue
            vecs, guesses = self.encoder.encode([it.text for it in fresh])
            fresh = self.encoder.with_emotion(fresh, guesses)
            now = self.clock()
            rows = [to_row(it, embedding=to_blob(v), model=self.encoder.model, now=now)
                    for it, v in zip(fresh, vecs)]
            with self.sessions.begin() as session:
                ids = new_quotes.add_many(session, rows)
            self.vectors.add(team_id, ids, vecs)
            added += len(ids)
        return added, duplicates
