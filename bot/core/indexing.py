"""Keeping this process's FAISS indexes in step with the database (the source of truth).

* :class:`IndexLoader` fills the indexes at start-up from the stored vectors, and encodes
  again the quotes whose vectors another model made (``voicebot reindex --all`` too).
* :class:`IndexSync`, for several replicas: each polls for quotes changed since its
  high-water mark (``updated_at``) and for deletions recorded in the audit log since the
  last entry it saw, so a quote captured or deleted through one replica is reflected in
  every other within one poll interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from bot.core.vectors import Encoder, emotion_fields
from store.db import db_errors
from store.queries import quotes as q
from store.queries import sync, vector_copy, vectors
from store.retrieval.embeddings import Embedder, from_blob, to_blob
from store.retrieval.index import GROWTH, IndexRegistry

log = logging.getLogger(__name__)
Progress = Callable[[int], None]
OVERLAP = timedelta(seconds=5)  # clock skew between writers; re-reading is harmless


@dataclass(frozen=True)
class LoadReport:
    loaded: int
    reembedded: int
    teams: int


class _TeamVectors:
    """One team's stored vectors as start-up reads them: the rows of one (model, size) go
    straight into one matrix (sized by the team's quote count, so no copy follows): the
    first seen, or on PostgreSQL the team's largest group, copied in (:meth:`copied`);
    rows of any other model are kept aside, usually none."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.key: tuple[str | None, int] | None = None
        self.matrix = np.empty((0, 0), dtype=np.float32)
        self.ids: list[int] | np.ndarray = []  # an int64 array when copied (PostgreSQL)
        self.other: list[tuple[int, bytes, str | None]] = []

    @classmethod
    def copied(cls, got: vector_copy.GroupVectors) -> _TeamVectors:
        """The team's largest group of vectors, as :func:`vector_copy.copy_groups` read it."""
        team = cls(got.group.count)
        team.key = (got.group.model, int(got.group.size or 0))
        team.matrix, team.ids = got.matrix, got.ids
        return team

    def id_list(self) -> list[int]:
        return self.ids.tolist() if isinstance(self.ids, np.ndarray) else list(self.ids)

    def add(self, ids: Sequence[int], blobs: Sequence[bytes], models: Sequence[str | None]
            ) -> None:
        if self.key is None:  # room to grow: rows never written are never resident
            self.key = (models[0], len(blobs[0]))
            self.matrix = np.empty((int(max(self.capacity, len(ids)) * GROWTH) + 1024,
                                    len(blobs[0]) // 4), dtype=np.float32)
        key = self.key
        if set(models) != {key[0]} or set(map(len, blobs)) != {key[1]}:  # mixed: sort out
            current = [n for n, (b, m) in enumerate(zip(blobs, models)) if (m, len(b)) == key]
            self.other += [(ids[n], blobs[n], models[n])
                           for n in sorted(set(range(len(ids))) - set(current))]
            ids, blobs = [ids[n] for n in current], [blobs[n] for n in current]
            if not ids:  # all of another model (a page of them, or after a copy)
                return
        start = len(self.ids)
        if start + len(ids) > len(self.matrix):  # quotes added since the count was read
            grown = np.empty((int((start + len(ids)) * GROWTH), self.matrix.shape[1]),
                             dtype=np.float32)
            grown[:start] = self.matrix[:start]
            self.matrix = grown
        self.matrix[start : start + len(ids)] = np.frombuffer(
            b"".join(blobs), dtype=np.float32).reshape(len(ids), -1)
        self.ids = (np.concatenate([self.ids, np.asarray(ids, dtype=np.int64)])
                    if isinstance(self.ids, np.ndarray) else self.ids + list(ids))

    def take(self, model: str, size: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(ids, matrix) of the vectors ``model`` made (``size`` bytes each; the matrix's
        first rows, the rest is room), and the ids of the others (to encode again)."""
        if self.key == (model, size):
            stale = [i for i, _, _ in self.other]
            return np.asarray(self.ids, dtype=np.int64), self.matrix, stale
        current = [(i, b) for i, b, m in self.other if (m, len(b)) == (model, size)]
        stale = self.id_list() + [i for i, b, m in self.other if (m, len(b)) != (model, size)]
        matrix = np.frombuffer(bytearray(b"".join(b for _, b in current)), dtype=np.float32)
        return (np.asarray([i for i, _ in current], dtype=np.int64),
                matrix.reshape(len(current), size // 4), stale)


class StoredVectors:
    """Every stored vector, read once into one matrix per team: the only copy the indexes
    then keep. Read before the model that decides which vectors are current has loaded
    (start-up reads them while it loads)."""

    def __init__(self) -> None:
        self.teams: dict[str, _TeamVectors] = {}
        self.missing: list[int] = []  # quotes with no vector stored

    @classmethod
    def read(cls, session: Session, *, copy: bool = True) -> StoredVectors:
        """On PostgreSQL (``copy``) by groups copied in (:meth:`_copy`); elsewhere page by
        page (the same vectors and ids, in id order)."""
        if copy and vector_copy.available(session):
            return cls._copy(session)
        out = cls()
        sizes = q.team_sizes(session)
        for rows in q.stored_vectors(session):
            out._add_rows(rows, sizes)
        return out

    @classmethod
    def _copy(cls, session: Session) -> StoredVectors:
        """PostgreSQL: each team's largest group of vectors (one model, one size) copied
        straight into its matrix; the rest (usually nothing) row by row."""
        out = cls()
        vector_copy.snapshot(session)
        groups = vector_copy.groups(session)
        largest: dict[str, vector_copy.VectorGroup] = {}
        sizes: dict[str, int] = {}
        for g in groups:  # each team's largest first
            sizes[g.team_id] = sizes.get(g.team_id, 0) + g.count
            if g.copyable and g.team_id not in largest:
                largest[g.team_id] = g
        chosen = list(largest.values())
        for got in vector_copy.copy_groups(session, chosen,
                                           lambda n: int(n * GROWTH) + 1024):
            out.teams[got.group.team_id] = _TeamVectors.copied(got)
        if len(chosen) < len(groups):
            for rows in vector_copy.other_rows(session, chosen):
                out._add_rows(rows, sizes)
        return out

    def _add_rows(self, rows: Sequence[q.StoredRow], sizes: dict[str, int]) -> None:
        """Rows of (team_id, id, embedding, model) into their teams' matrices."""
        teams, ids, blobs, models = zip(*rows)  # columns, without a loop per row
        if None in blobs:
            self.missing += [i for i, b in zip(ids, blobs) if b is None]
            rows = [r for r in rows if r[2] is not None]
            if not rows:
                return
            teams, ids, blobs, models = zip(*rows)
        groups = ({teams[0]: range(len(ids))} if len(set(teams)) == 1 else
                  _positions(teams))
        for team_id, at in groups.items():
            team = self.teams.get(team_id)
            if team is None:
                team = self.teams[team_id] = _TeamVectors(sizes.get(team_id, 0))
            if isinstance(at, range):
                team.add(ids, blobs, models)
            else:
                team.add([ids[n] for n in at], [blobs[n] for n in at],
                         [models[n] for n in at])


def _positions(values: Sequence[str]) -> dict[str, list[int]]:
    """Where each value occurs."""
    at: dict[str, list[int]] = {}
    for n, value in enumerate(values):
        at.setdefault(value, []).append(n)
    return at


class IndexLoader:
    def __init__(self, sessions: sessionmaker[Session], encoder: Encoder,
                 indexes: IndexRegistry) -> None:
        self.sessions = sessions
        self.encoder = encoder
        self.indexes = indexes

    def read_stored(self) -> StoredVectors:
        """Every stored vector (:class:`StoredVectors`)."""
        with self.sessions() as session:
            return StoredVectors.read(session)

    @db_errors
    def load_indexes(self, progress: Progress | None = None,
                     on_reembed_start: Callable[[int], None] | None = None,
                     stored: StoredVectors | None = None) -> LoadReport:
        """Fill the indexes from stored vectors; re-embed those made by another model.

        ``stored`` is what :meth:`read_stored` read, when already read (start-up reads it
        while the model loads); it is consumed."""
        if stored is None:
            stored = self.read_stored()
        embedder = self.encoder.embedder
        stale = list(stored.missing)
        loaded, teams = 0, set(stored.teams)
        while stored.teams:  # one team at a time, each matrix handed over, not copied
            team_id, team = stored.teams.popitem()
            ids, matrix, old = team.take(embedder.name, 4 * embedder.dim)
            del team
            stale += old
            index = self.indexes.get(team_id)
            if len(ids) and not len(index):
                index.load(ids, matrix)
            elif len(ids):
                index.upsert(ids.tolist(), matrix[: len(ids)])
            loaded += len(ids)
        version = self.encoder.emotion_version
        if version:  # emotions guessed by another emotion head: encode them again too
            with self.sessions() as session:
                again = set(vectors.stale_emotions(session, version)) - set(stale)
            if again:
                log.info("guessing emotions again with a new emotion head",
                         extra={"count": len(again)})
                stale += sorted(again)
        if stale:
            log.info("re-embedding quotes made by another model", extra={"count": len(stale)})
            if on_reembed_start:
                on_reembed_start(len(stale))
            self.reembed(stale, progress=progress)
        return LoadReport(loaded=loaded, reembedded=len(stale),
                          teams=len(teams | set(self.indexes.teams())))

    @db_errors
    def reembed(self, ids: Sequence[int] | None = None, *, batch_size: int = 256,
                progress: Progress | None = None) -> int:
        """Encode quotes again with the configured model (all when ``ids`` is None); quotes
        saved without an emotion (under a model the emotion head does not fit) get one, and
        emotions another head guessed are guessed again (a person's choice is kept)."""
        if ids is None:
            with self.sessions() as session:
                ids = q.ids(session)
        done = 0
        for start in range(0, len(ids), batch_size):
            chunk = list(ids[start : start + batch_size])
            with self.sessions() as session:
                rows = vectors.to_encode(session, chunk)
            vecs, guesses = self.encoder.encode([r.text for r in rows])
            with self.sessions.begin() as session:
                for n, (row, vec) in enumerate(zip(rows, vecs)):
                    extra: dict[str, Any] = {}
                    version = self.encoder.emotion_version
                    if guesses is not None and version and row.needs_guess(version):
                        extra = emotion_fields(guesses[n])
                    vectors.set_vector(session, row.id, to_blob(vec), self.encoder.model, extra)
            for row, vec in zip(rows, vecs):
                self.indexes.get(row.team_id).upsert([row.id], vec[None, :])
            done += len(rows)
            if progress:
                progress(len(rows))
        return done


class IndexSync:
    def __init__(self, sessions: sessionmaker[Session], embedder: Embedder,
                 indexes: IndexRegistry) -> None:
        """Takes the high-water marks now: build it before loading the indexes."""
        self.sessions = sessions
        self.embedder = embedder
        self.indexes = indexes
        with sessions() as session:
            self.updated_since: datetime | None
            self.updated_since, self.audit_since = sync.high_water(session)

    def poll(self) -> tuple[int, int]:
        """Apply changes made elsewhere; returns (upserted, removed)."""
        since = self.updated_since - OVERLAP if self.updated_since is not None else None
        with self.sessions() as session:
            changed = sync.changed_after(session, since)
            removed = sync.removed_after(session, self.audit_since)
        upserted = 0
        for row in changed:
            if row.embedding is not None and row.embedding_model == self.embedder.name:
                self.indexes.get(row.team_id).upsert([row.id], from_blob(row.embedding)[None, :])
                upserted += 1
            if self.updated_since is None or row.updated_at > self.updated_since:
                self.updated_since = row.updated_at
        for entry in removed:
            self.indexes.get(entry.team_id).remove([entry.quote_id])
            self.audit_since = entry.audit_id
        return upserted, len(removed)
