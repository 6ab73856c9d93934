"""Per-team in-memory indexes over quote vectors: one float32 matrix per team, searched exactly.

The index is a cache of the vectors stored in the database: :class:`IndexRegistry` is filled
from stored vectors without re-encoding. Search is exact inner product, which equals cosine
on unit vectors. Every operation takes a lock: Bolt runs listeners on a thread pool.

One NumPy matrix per team, not FAISS (bench/PERF.md, "Search"): one pass over it
(:meth:`QuoteIndex.scan`) scores every quote, so the ranking's pool and the breadth count
read the same scan; the matrix is the only copy of the vectors in memory (an
``IndexFlatIP`` kept its own, filled by copying); a row is replaced or removed in place
(FAISS's ``remove_ids`` was a pass over the whole index); and NumPy's matrix-vector product
was faster than FAISS's search at 100k quotes on the same thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_faiss: Any
try:  # only its inner-product kernel (the index itself is NumPy)
    import faiss as _faiss
except ImportError:  # pragma: no cover - a dependency; NumPy's product is the fallback
    _faiss = None

#: capacity grows by this factor (plus a little), so appending one quote at a time copies
#: the matrix only every ~25% of growth.
GROWTH = 1.25
#: a scan is split over the registry's threads only from this many quotes on (below it a
#: thread hand-off costs more than it saves).
SPLIT_MIN = 32_768

#: ``scanner(X, q)`` returns ``X @ q`` (float32): how :meth:`QuoteIndex.scan` multiplies.
Scanner = Callable[[np.ndarray, np.ndarray], np.ndarray]


def one_thread(X: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The default :data:`Scanner`: every row's inner product with ``q`` on the calling
    thread, by FAISS's SIMD kernel (``fvec_inner_products_ny``: 1.4x NumPy's BLAS
    matrix-vector product at 100k x 384, one thread each; bench/PERF.md), else NumPy's."""
    if _faiss is None or not X.flags.c_contiguous:
        scores: np.ndarray = X @ q
        return scores
    out = np.empty(len(X), dtype=np.float32)
    q = np.ascontiguousarray(q, dtype=np.float32)
    _faiss.fvec_inner_products_ny(_faiss.swig_ptr(out), _faiss.swig_ptr(q),
                                  _faiss.swig_ptr(X), X.shape[1], len(X))
    return out


class SplitScanner:
    """A :data:`Scanner` that splits the rows over ``threads`` threads (both kernels release
    the GIL). The BLAS library's own threads should be limited to one
    (:func:`store.retrieval.threads.limit_blas`), or the parts would compete with them."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="voicebot-scan")

    def __call__(self, X: np.ndarray, q: np.ndarray) -> np.ndarray:
        n = len(X)
        if n < SPLIT_MIN:
            return one_thread(X, q)
        out = np.empty(n, dtype=np.float32)
        bounds = np.linspace(0, n, self.threads + 1).astype(int)
        parts = list(zip(bounds[:-1], bounds[1:]))
        def part(a: int, b: int) -> None:
            out[a:b] = one_thread(X[a:b], q)

        futures = [self._pool.submit(part, a, b) for a, b in parts[1:]]
        part(*parts[0])  # this thread takes the first part
        for f in futures:
            f.result()
        return out


#: :meth:`QuoteIndex.search_many` scores at most this many (query, quote) pairs at once
#: (16 MiB of float32), in blocks of at least 64 queries, and picks each row's best from
#: at most this many in whole-block operations (:func:`best_rows`, which copies the block).
MANY_SCORES = 1 << 22


#: :meth:`Scan.best` orders at least this many quotes at once: one selection over the whole
#: scan serves the ranking's pools (the first 400 allowed quotes) and the breadth count's
#: first step past them (to 800); a count that goes further orders 4x more each time.
BEST_MIN = 1024


#: :func:`best_first` narrows a scan of at least this many scores by a sample first.
SAMPLE_MIN = 8192
#: ... taking every ``SAMPLE_STEP``-th score as the sample.
SAMPLE_STEP = 16


def at_least(scores: np.ndarray, want: int) -> np.ndarray:
    """Positions, in order, of every score at least the ``want``-th best (0 < want < n).

    A value partition and a comparison (twice as fast as ``argpartition`` over 100k). Over a
    large scan the partition is of a few thousand candidates, not of every score: a score
    ``t`` from every :data:`SAMPLE_STEP`-th one, low enough that (as a rule) ``want`` or
    more scores reach it, keeps the scores >= ``t``; when at least ``want`` do, they hold
    every score >= the ``want``-th best, which is then their own ``want``-th best (else the
    whole scan is partitioned). The same positions either way."""
    n = len(scores)
    if n >= SAMPLE_MIN and want * 4 <= n:
        sample = scores[::SAMPLE_STEP]
        r = min(len(sample), 2 * want // SAMPLE_STEP + 8)
        low = np.partition(sample, len(sample) - r)[len(sample) - r]
        candidates = np.flatnonzero(scores >= low)
        if len(candidates) >= want:
            got = scores[candidates]
            cut = np.partition(got, len(got) - want)[len(got) - want]
            kept: np.ndarray = candidates[got >= cut]
            return kept
    return np.flatnonzero(scores >= np.partition(scores, n - want)[n - want])


def best_first(scores: np.ndarray, want: int) -> np.ndarray:
    """Positions of every score at least the ``want``-th best (so ties at the cut are all
    in, and there may be more than ``want``), best first, equal scores in position order."""
    n = len(scores)
    top = at_least(scores, want) if 0 < want < n else np.arange(n)
    ordered: np.ndarray = top[np.argsort(-scores[top], kind="stable")]
    return ordered


def best_rows(scores: np.ndarray, ids: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    """Per row of ``scores`` (queries x quotes ``ids``), its ``k`` best ``(id, score)``, best
    first, equal scores in position order (:func:`best_positions`)."""
    top = best_positions(scores, k)
    top_ids = ids[top].tolist()
    top_scores = np.take_along_axis(scores, top, axis=1).tolist()
    return [list(zip(a, b)) for a, b in zip(top_ids, top_scores)]


def best_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row of ``scores`` (queries x quotes), the positions of its ``k`` best (all of them
    when there are fewer), best first, equal scores in position order:
    ``best_first(row, k)[:k]`` of every row, in a few whole-matrix operations instead of a
    pass per row while the block holds at most :data:`MANY_SCORES` scores (a larger one, a
    large team's, is walked row by row: no whole-block copies beside the scores)."""
    rows, n = scores.shape
    if not 0 < k < n or scores.size > MANY_SCORES:
        out = np.empty((rows, min(max(k, 0), n)), dtype=np.int64)
        for r, row in enumerate(scores):
            out[r] = best_first(row, k)[:k]
        return out
    cut = np.partition(scores, n - k, axis=1)[:, n - k]  # each row's k-th best score
    row_of, col = np.nonzero(scores >= cut[:, None])  # row by row, positions ascending
    kept = scores[row_of, col]
    order = np.lexsort((-kept, row_of))  # by row, best first; stable: ties by position
    starts = np.searchsorted(row_of, np.arange(rows))  # each row keeps >= k
    pick = order[(starts[:, None] + np.arange(k)).ravel()]
    top: np.ndarray = col[pick].reshape(rows, k)
    return top


class RowMap:
    """Quote id -> row of the matrix, as two aligned NumPy arrays sorted by id (a lookup is
    a binary search). A dict held ~12 MB per 100k quotes in int objects; this holds 1.6 MB.
    Ids arrive mostly in increasing order (new quotes are appended without a sort); a removal
    costs a pass over the arrays (deletions are rare and few). Not thread-safe: the index's
    lock guards it."""

    def __init__(self) -> None:
        self._ids = np.empty(0, dtype=np.int64)
        self._rows = np.empty(0, dtype=np.int64)

    def reset(self, ids: np.ndarray) -> None:
        """Row ``k`` holds ``ids[k]``; ValueError when an id is given twice."""
        order = np.argsort(ids, kind="stable")
        self._ids = np.asarray(ids, dtype=np.int64)[order]
        if len(self._ids) > 1 and bool((self._ids[1:] == self._ids[:-1]).any()):
            raise ValueError("the same quote id twice")
        self._rows = order.astype(np.int64)

    def find(self, ids: np.ndarray) -> np.ndarray:
        """Each id's row, -1 where the id is not here."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(self._ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._ids, ids), len(self._ids) - 1)
        rows: np.ndarray = np.where(self._ids[pos] == ids, self._rows[pos], -1)
        return rows

    def add(self, ids: np.ndarray, rows: np.ndarray) -> None:
        """Add ids that are not here, at ``rows``."""
        ids = np.asarray(ids, dtype=np.int64)
        rows = np.asarray(rows, dtype=np.int64)
        if not len(ids):
            return
        if bool((ids[1:] > ids[:-1]).all()) and (not len(self._ids) or ids[0] > self._ids[-1]):
            self._ids = np.concatenate([self._ids, ids])  # the usual case: newer quotes
            self._rows = np.concatenate([self._rows, rows])
            return
        all_ids = np.concatenate([self._ids, ids])
        order = np.argsort(all_ids, kind="stable")
        self._ids = all_ids[order]
        self._rows = np.concatenate([self._rows, rows])[order]

    def set_row(self, quote_id: int, row: int) -> None:
        """Move a present id to ``row``."""
        pos = int(np.searchsorted(self._ids, quote_id))
        self._rows[pos] = row

    def pop(self, quote_id: int) -> int | None:
        """Forget an id; its row, or None when it was not here."""
        pos = int(np.searchsorted(self._ids, quote_id))
        if pos >= len(self._ids) or int(self._ids[pos]) != quote_id:
            return None
        row = int(self._rows[pos])
        self._ids = np.delete(self._ids, pos)
        self._rows = np.delete(self._rows, pos)
        return row


@dataclass(frozen=True)
class Scan:
    """Every quote of a team scored against one query vector, from one pass over its matrix.

    ``ids`` and ``scores`` are aligned and in the index's order; :meth:`best` orders them.
    """

    ids: np.ndarray  # int64
    scores: np.ndarray  # float32 cosine to the query
    _order: list[np.ndarray] = field(default_factory=list, repr=False, compare=False)
    #: the index scanned, and its :attr:`QuoteIndex.version` then (for :meth:`vectors`)
    source: QuoteIndex | None = field(default=None, repr=False, compare=False)
    version: int = field(default=0, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def best(self, k: int) -> np.ndarray:
        """Positions of the ``k`` best scores (fewer if there are fewer), best first; equal
        scores in the index's order. The first call orders at least :data:`BEST_MIN`, so
        later calls for more are usually a slice."""
        n = len(self.scores)
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        if not self._order or len(self._order[0]) < k:
            want = min(n, max(k + 1, BEST_MIN, 4 * len(self._order[0]) if self._order else 0))
            self._order[:] = [best_first(self.scores, want)]
        return self._order[0][:k]

    def hits(self, k: int) -> list[tuple[int, float]]:
        """``(quote_id, cosine)`` of the ``k`` best, best first."""
        top = self.best(k)
        return list(zip(self.ids[top].tolist(), self.scores[top].tolist()))

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        """The stored vectors of the quotes at ``positions`` of this scan, as
        ``source.vectors(ids[positions])`` reads them now: the rows at those positions while
        the index is unchanged since the scan (no look-up per id), else by id."""
        if self.source is None:
            raise ValueError("this scan has no index to read vectors from")
        return self.source._at(positions, self.ids, self.version)


class QuoteIndex:
    """Exact inner-product search over one team's quote vectors (rows of one matrix)."""

    def __init__(self, dim: int, *, scanner: Scanner = one_thread) -> None:
        self.dim = dim
        self._scanner = scanner
        self._X = np.empty((0, dim), dtype=np.float32)  # rows [0, _n) are quotes
        self._ids = np.empty(0, dtype=np.int64)
        self._n = 0
        self._row = RowMap()  # quote id -> row
        self._lock = threading.RLock()
        #: changes whenever a row is added, replaced, moved or removed
        self.version = 0

    def __len__(self) -> int:
        return self._n

    def _reserve(self, n: int) -> None:
        """Room for ``n`` rows (caller holds the lock); grows by :data:`GROWTH`."""
        if n <= len(self._X):
            return
        cap = max(n, int(len(self._X) * GROWTH) + 16)
        X = np.empty((cap, self.dim), dtype=np.float32)
        ids = np.empty(cap, dtype=np.int64)
        X[: self._n] = self._X[: self._n]
        ids[: self._n] = self._ids[: self._n]
        self._X, self._ids = X, ids

    def load(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Take ``vectors`` (a writable C-contiguous float32 matrix whose first rows are the
        vectors of ``ids``; any rows after them are room to grow) as this empty index's
        storage, without copying (start-up)."""
        ids = np.asarray(ids, dtype=np.int64)
        n = len(ids)
        if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape[1] != self.dim \
                or len(vectors) < n or not vectors.flags.c_contiguous \
                or not vectors.flags.writeable:
            raise ValueError("load takes a writable C-contiguous float32 (>= n, dim) matrix")
        row = RowMap()
        try:
            row.reset(ids)
        except ValueError:
            raise ValueError("load got the same quote id twice") from None
        room = np.empty(len(vectors), dtype=np.int64)
        room[:n] = ids
        with self._lock:
            if self._n:
                raise ValueError("load fills an empty index; use upsert")
            self._X, self._ids, self._n, self._row = vectors, room, n, row
            self.version += 1

    def upsert(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add vectors under ``ids``, replacing any vector already stored for an id."""
        if len(ids) == 0:
            return
        vecs = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        id_list = [int(i) for i in ids]
        if len(set(id_list)) != len(id_list):
            raise ValueError("upsert got the same quote id twice")
        with self._lock:
            self.version += 1
            rows = self._row.find(np.asarray(id_list, dtype=np.int64))
            there = np.flatnonzero(rows >= 0)
            if len(there):  # a replacement is written in place
                self._X[rows[there]] = vecs[there]
            new = np.flatnonzero(rows < 0)
            if len(new):
                start = self._n
                self._reserve(start + len(new))
                self._X[start : start + len(new)] = vecs[new]
                new_ids = np.asarray(id_list, dtype=np.int64)[new]
                self._ids[start : start + len(new)] = new_ids
                self._row.add(new_ids, np.arange(start, start + len(new), dtype=np.int64))
                self._n = start + len(new)

    def remove(self, ids: Iterable[int]) -> None:
        """Forget ``ids`` (those not here are ignored): the last row moves into each gap."""
        with self._lock:
            self.version += 1
            for i in ids:
                r = self._row.pop(int(i))
                if r is None:
                    continue
                last = self._n - 1
                if r != last:
                    self._X[r] = self._X[last]
                    self._ids[r] = self._ids[last]
                    self._row.set_row(int(self._ids[r]), r)
                self._n = last
            if len(self._X) > 1024 and self._n < len(self._X) // 2:  # give memory back
                keep = int(self._n * GROWTH) + 16
                self._X = self._X[:keep].copy()
                self._ids = self._ids[:keep].copy()

    def __contains__(self, quote_id: int) -> bool:
        with self._lock:
            return bool(self._row.find(np.array([int(quote_id)]))[0] >= 0)

    def scan(self, vector: np.ndarray) -> Scan:
        """Every quote's cosine to ``vector``, in one pass over the matrix."""
        q = np.ascontiguousarray(vector, dtype=np.float32).reshape(self.dim)
        with self._lock:
            n = self._n
            scores = self._scanner(self._X[:n], q) if n else np.zeros(0, dtype=np.float32)
            return Scan(ids=self._ids[:n].copy(), scores=scores, source=self,
                        version=self.version)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest quotes as ``(quote_id, cosine)``, best first."""
        if k <= 0:
            return []
        return self.scan(vector).hits(k)

    def search_many(self, vectors: np.ndarray, k: int,
                    block: int | None = None) -> list[list[tuple[int, float]]]:
        """:meth:`search` for several query vectors (:meth:`nearest`, as lists)."""
        ids, scores = self.nearest(vectors, k, block)
        return [list(zip(a, b)) for a, b in zip(ids.tolist(), scores.tolist())]

    def nearest(self, vectors: np.ndarray, k: int,
                block: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest quotes of each query vector (all of them when there are fewer),
        best first as :meth:`search` orders them: their ids (int64) and cosines (float32),
        two arrays of one row per query. ``block`` queries at a time: the scores of a block
        of queries against every quote are held at once; by default as many as fit in
        :data:`MANY_SCORES` scores, at least 64."""
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            n = self._n
            width = min(max(k, 0), n)
            ids = np.empty((len(queries), width), dtype=np.int64)
            scores = np.empty((len(queries), width), dtype=np.float32)
            if width == 0:
                return ids, scores
            if block is None:  # one product for an import's batch against a small team
                block = max(64, MANY_SCORES // n)
            for start in range(0, len(queries), block):
                S = queries[start : start + block] @ self._X[:n].T  # (block, n)
                # as Scan.hits(k), but ordering only each row's k best, not Scan.best's
                # BEST_MIN: an import looks for 5 neighbours of every quote
                top = best_positions(S, k)
                ids[start : start + len(S)] = self._ids[:n][top]
                scores[start : start + len(S)] = np.take_along_axis(S, top, axis=1)
        return ids, scores

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Stored vectors for ``ids`` (KeyError for an id not in the index)."""
        if len(ids) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        wanted = np.asarray([int(i) for i in ids], dtype=np.int64)
        with self._lock:
            rows = self._row.find(wanted)
            if bool((rows < 0).any()):
                raise KeyError(int(wanted[int(np.flatnonzero(rows < 0)[0])]))
            found: np.ndarray = self._X[rows]
            return found

    def present(self, ids: Sequence[int]) -> tuple[list[int], np.ndarray]:
        """The ids of ``ids`` that are in the index (in their order) and their stored vectors,
        read together under the lock (one look-up for all, and no removal between them)."""
        wanted = np.asarray([int(i) for i in ids], dtype=np.int64)
        with self._lock:
            rows = self._row.find(wanted)
            keep = np.flatnonzero(rows >= 0)
            found: np.ndarray = self._X[rows[keep]]
        return wanted[keep].tolist(), found

    def _at(self, positions: np.ndarray, ids: np.ndarray, version: int) -> np.ndarray:
        """:meth:`Scan.vectors`: rows ``positions`` if ``version`` is still this index's
        (every row where the scan found it), else :meth:`vectors` of ``ids[positions]``."""
        with self._lock:
            if version == self.version:
                rows: np.ndarray = self._X[positions]
                return rows
        return self.vectors(ids[positions].tolist())

    def ids(self) -> np.ndarray:
        with self._lock:
            return self._ids[: self._n].copy()


class IndexRegistry:
    """One :class:`QuoteIndex` per Slack workspace, created on first use.

    ``scan_threads``: threads one search's scan is split over (from :data:`SPLIT_MIN`
    quotes on; ``Settings.scan_threads``). The scan reads the whole matrix, which one core
    alone does not read at the memory's full speed; the threads wait without spinning.
    """

    def __init__(self, dim: int, *, scan_threads: int = 1) -> None:
        self.dim = dim
        self.scanner: Scanner = SplitScanner(scan_threads) if scan_threads > 1 else one_thread
        self._indexes: dict[str, QuoteIndex] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str) -> QuoteIndex:
        with self._lock:
            index = self._indexes.get(team_id)
            if index is None:
                index = self._indexes[team_id] = QuoteIndex(self.dim, scanner=self.scanner)
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
