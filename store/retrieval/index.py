"""Per-team FAISS indexes over quote vectors; FAISS ids are quote ids.

The index is a cache of the vectors stored in the database: :meth:`IndexRegistry.rebuild`
fills it from stored vectors without re-encoding. Search is exact inner product
(``IndexFlatIP``), which equals cosine on unit vectors. Every operation takes a lock:
Bolt runs listeners on a thread pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import faiss
import numpy as np


class QuoteIndex:
    """Exact inner-product search over one team's quote vectors."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._lock = threading.RLock()
        self._ids: set[int] = set()  # FAISS's remove_ids is a pass over the whole index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def upsert(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add vectors under ``ids``, replacing any vector already stored for an id."""
        if len(ids) == 0:
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        id_arr = np.asarray(ids, dtype=np.int64)
        id_set = set(id_arr.tolist())
        if len(id_set) != len(id_arr):
            raise ValueError("upsert got the same quote id twice")
        with self._lock:
            present = id_set & self._ids
            if present:  # only replacements pay for the O(n) removal
                self._index.remove_ids(np.fromiter(present, dtype=np.int64, count=len(present)))  # type: ignore[arg-type]  # faiss stubs want an IDSelector; an int64 id array works
            self._index.add_with_ids(vecs, id_arr)
            self._ids |= id_set

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            present = [int(i) for i in ids if int(i) in self._ids]
            if present:
                self._index.remove_ids(np.asarray(present, dtype=np.int64))  # type: ignore[arg-type]  # faiss stubs want an IDSelector; an int64 id array works
                self._ids.difference_update(present)

    def __contains__(self, quote_id: int) -> bool:
        with self._lock:
            return int(quote_id) in self._ids

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest quotes as ``(quote_id, cosine)``, best first."""
        with self._lock:
            n = int(self._index.ntotal)
            if n == 0 or k <= 0:
                return []
            query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
            scores, ids = self._index.search(query, min(k, n))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def search_many(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """:meth:`search` for several query vectors in one call."""
        with self._lock:
            n = int(self._index.ntotal)
            if n == 0 or k <= 0:
                return [[] for _ in range(len(vectors))]
            queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
            scores, ids = self._index.search(queries, min(k, n))
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i != -1]
                for row_ids, row_scores in zip(ids, scores)]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Stored vectors for ``ids`` (KeyError for an id not in the index)."""
        if len(ids) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._lock:
            missing = [i for i in ids if int(i) not in self._ids]
            if missing:
                raise KeyError(missing[0])
            return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def ids(self) -> np.ndarray:
        with self._lock:
            return faiss.vector_to_array(self._index.id_map).copy()


class IndexRegistry:
    """One :class:`QuoteIndex` per Slack workspace, created on first use.

    FAISS runs single-threaded: queries are one vector each and concurrency comes from the
    bot's own pools; OpenMP threads for one query only add tail latency on a busy machine
    (bench/PERF.md: p95 at 100k quotes 170 ms with 2 threads, 42 ms with 1).
    """

    def __init__(self, dim: int, *, faiss_threads: int = 1) -> None:
        faiss.omp_set_num_threads(faiss_threads)
        self.dim = dim
        self._indexes: dict[str, QuoteIndex] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str) -> QuoteIndex:
        with self._lock:
            index = self._indexes.get(team_id)
            if index is None:
                index = self._indexes[team_id] = QuoteIndex(self.dim)
            return index

    def teams(self) -> list[str]:
        with self._lock:
            return sorted(self._indexes)

    def drop(self, team_id: str) -> None:
        with self._lock:
            self._indexes.pop(team_id, None)

    def total(self) -> int:
        with self._lock:
            return sum(len(i) for i in self._indexes.values())
