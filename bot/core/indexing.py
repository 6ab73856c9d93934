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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from bot.core.vectors import Encoder, emotion_fields
from store.db import db_errors
from store.queries import quotes as q
from store.queries import sync, vectors
from store.retrieval.embeddings import Embedder, from_blob, to_blob
from store.retrieval.index import IndexRegistry

log = logging.getLogger(__name__)
Progress = Callable[[int], None]
OVERLAP = timedelta(seconds=5)  # clock skew between writers; re-reading is harmless


@dataclass(frozen=True)
class LoadReport:
    loaded: int
    reembedded: int
    teams: int


class IndexLoader:
    def __init__(self, sessions: sessionmaker[Session], encoder: Encoder,
                 indexes: IndexRegistry) -> None:
        self.sessions = sessions
        self.encoder = encoder
        self.indexes = indexes

    @db_errors
    def load_indexes(self, progress: Progress | None = None,
                     on_reembed_start: Callable[[int], None] | None = None,
                     stored: Iterable[tuple[str, int, bytes | None, str | None]] | None = None,
                     ) -> LoadReport:
        """Fill the indexes from stored vectors; re-embed those made by another model.

        ``stored`` is the database's (team, id, vector, model) rows when already read (start-up
        reads them while the model loads)."""
        by_team: dict[str, tuple[list[int], list[bytes]]] = {}
        stale: list[int] = []
        embedder = self.encoder.embedder
        name, size = embedder.name, 4 * embedder.dim
        with self.sessions() as session:
            rows = stored if stored is not None else q.stored_vectors(session)
            for team_id, quote_id, blob, model in rows:
                if blob is None or model != name or len(blob) != size:
                    stale.append(quote_id)
                    continue
                ids, blobs = by_team.setdefault(team_id, ([], []))
                ids.append(quote_id)
                blobs.append(blob)
        for team_id, (ids, blobs) in by_team.items():  # one copy per team, no per-row arrays
            matrix = np.frombuffer(b"".join(blobs), dtype=np.float32)
            self.indexes.get(team_id).upsert(ids, matrix.reshape(len(ids), embedder.dim))
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
        loaded = sum(len(v[0]) for v in by_team.values())
        return LoadReport(loaded=loaded, reembedded=len(stale),
                          teams=len(set(by_team) | set(self.indexes.teams())))

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
