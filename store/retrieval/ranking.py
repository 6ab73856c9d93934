"""Ranking of one team's quotes for ``/voice <topic>``: pure numpy, no bot/Slack/SQL imports.

Shipped method (chosen by ``bench/quality.py`` on tuning splits only; numbers in
``bench/QUALITY.md``), given a normalized query embedding:

1. **Pool**: exact inner-product search for the ``PARAMS.pool`` best *allowed* quotes.
2. **Neighbour smoothing** (database-side augmentation): each pool vector is replaced by the
   normalized sum of itself and ``smoothing`` x the mean of its *mutual* ``neighbours``-nearest
   pool vectors, so a quote is scored together with the quotes that say the same thing. Mutual
   (both in each other's top ``neighbours``) so that a lone off-topic quote sitting next to a
   relevant cluster does not borrow that cluster's relevance.
3. **Pseudo-relevance feedback**: ``q' = unit(q + feedback_weight * c)``, ``c`` the
   softmax(score / ``feedback_temperature``)-weighted mean of the ``feedback_docs`` best
   smoothed vectors.
4. **Score** = cosine(q', smoothed vector); near-ties (``TIE_EPSILON``) go newest first.

Text signals were measured and are not shipped: BM25 alone and naive reciprocal-rank fusion
are far below dense; adding normalized BM25 to the feedback score lowered nDCG@10 on the
banking77 train draws and helped clinc150 val only slightly, so no ``query_text`` argument.
The score is a cosine in [-1, 1]. :func:`count_matches` turns it into the "N matching quotes"
count: an expected count under ``MATCH_MODEL`` (calibrated on tuning data), which reads each
score against the topic's own background, not against one absolute threshold.

Measured against plain dense on label-name *and* natural-language topics (bench/QUALITY.md):
the shipped ranking is at least as good on all four eval columns, so it stays. Feedback
without smoothing loses to plain dense on the multi-sentence product-feedback set (the drift
toward a nearby cluster); smoothing first keeps it above dense there too.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np


class VectorSearch(Protocol):
    """Exact inner-product search over one team's quotes."""

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(quote_id, cosine) of the k best quotes, best first (fewer if the team has fewer)."""
        ...

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Stored normalized float32 vectors for ``ids``, shape (len(ids), dim)."""
        ...


@dataclass(frozen=True)
class RankParams:
    """Tunables of the shipped ranking (values chosen in bench/quality.py)."""

    pool: int = 200
    neighbours: int = 10
    smoothing: float = 1.0
    feedback_docs: int = 10
    feedback_weight: float = 4.0
    feedback_temperature: float = 0.02


PARAMS = RankParams()

@dataclass(frozen=True)
class CountModel:
    """How :func:`count_matches` counts a topic's matching quotes (fitted in bench/breadth.py).

    Each candidate quote (shipped score ``s``) is on the topic with probability
    ``sigmoid(score * s + above_background * (s - b) + intercept)``, where ``b`` is the lowest
    shipped score in the topic's first pool (its ``RankParams.pool`` nearest quotes): how
    close the topic's neighbourhood is anyway. One absolute threshold cannot fit both a short
    question and a multi-sentence quote (their cosines to a topic differ); read against the
    background they can. The count is the sum of these probabilities, rounded, and never less
    than the number of quotes scoring >= ``floor`` (so a theme larger than the pool, whose
    background is itself on the topic, is not undersold); the quotes counted are that many
    best-scored ones. A topic whose plain cosine to its nearest quote is below ``gate`` counts
    nothing: the shipped score is relative (feedback pulls the query onto its nearest
    cluster, whatever it is), the plain cosine says whether anything is about the topic.
    """

    score: float = 6.06
    above_background: float = 6.68
    intercept: float = -7.55
    floor: float = 0.80
    gate: float = 0.35

    def probability(self, s: np.ndarray, background: float) -> np.ndarray:
        z = self.score * s + self.above_background * (s - background) + self.intercept
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic sigmoid, without overflow

    def lowest(self, background: float, p: float = 0.01) -> float:
        """The score below which a quote's probability is under ``p`` (where counting stops)."""
        z = np.log(p / (1.0 - p)) - self.intercept + self.above_background * background
        return min(float(z / (self.score + self.above_background)), self.floor)


#: the shipped counting rule: bench/breadth.py fits it on the tuning rows only (banking77
#: train, clinc150 val, label-name and natural topics, half the feedback topics); its median
#: relative count error per set is in bench/QUALITY.md, "Breadth".
MATCH_MODEL = CountModel()
#: cosine at or above which two quotes are the same words re-captured (bench/near_duplicates.py).
NEAR_DUPLICATE_THRESHOLD: float = 0.965
#: scores closer than this are ties, broken newest first when ``said_at`` is given.
TIE_EPSILON: float = 1e-6
#: largest pool that count_matches smooths; beyond it quotes are scored unsmoothed. 2,000 made
#: /voice p95 ~500 ms at 10k quotes; 400 changes about 2% of the quotes counted on the
#: benchmark topics (banking77 test: 67 ids over 77 topics; QUALITY.md was measured at 2,000).
COUNT_POOL_MAX: int = 400
#: default ``margin`` of :func:`diversify`: how much relevance a source cap may cost.
DIVERSITY_MARGIN: float = 0.1


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def _neighbour_count(n: int, p: RankParams) -> int:
    """How many nearest other rows each row of an ``n``-quote pool is smoothed with (0: the
    pool is not smoothed). It scales with the pool (``neighbours`` per ``pool`` quotes), so a
    small team or a narrow filter is not averaged into one blob."""
    if p.smoothing == 0:
        return 0
    return max(min(p.neighbours, n * p.neighbours // max(p.pool, 1), n - 1), 0)


def _mutual_neighbours(V: np.ndarray, p: RankParams, G: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(G, nn, mask)``: the pool's Gram matrix ``V @ V.T`` (``G`` when given; returned
    C-contiguous, for :class:`_Smoothed`'s flat gathers), each row's
    ``kn`` (:func:`_neighbour_count`) nearest other rows (``nn``, shape (n, kn)) and which of
    them are *mutual* (``mask``); None when nothing is smoothed. The neighbours are found by
    ``kn`` passes of ``argmax``, several times faster than ``argpartition`` along the rows of
    a 400 x 400 matrix."""
    n = len(V)
    kn = _neighbour_count(n, p)
    if kn <= 0:
        return None
    G = V @ V.T if G is None else np.ascontiguousarray(G)  # a block of a larger pool's: copied
    marked = G.copy()
    rows = np.arange(n)
    marked[rows, rows] = -np.inf
    nn = np.empty((n, kn), dtype=np.intp)
    for k in range(kn):  # each row's best remaining neighbour, then mark it taken
        nn[:, k] = best = marked.argmax(axis=1)
        marked[rows, best] = -np.inf
    chosen = np.zeros((n, n), dtype=bool)
    chosen[rows[:, None], nn] = True
    mask = chosen[nn, rows[:, None]]  # j = nn[i, k] has i among its own neighbours too
    return G, nn, mask


class _Smoothed:
    """The pool smoothed: each vector plus the mean of its *mutual* nearest neighbours
    (:func:`_mutual_neighbours`), made unit length: ``unit(V_i + f_i * S_i)``, ``S_i`` the
    sum of row i's mutual neighbours, ``f_i`` = smoothing / their count. Kept as products,
    without the n x d matrix: ``Vs @ x = (V @ x + f * S @ x) / norm`` with ``S @ x`` summed
    over at most ``kn`` neighbours per row, and each row's norm from the Gram matrix
    already computed to find them (``|V_i + f_i S_i|^2 = G_ii + 2 f_i sum_j G_ij + f_i^2
    sum_jk G_jk`` over the neighbours). At a 400-quote pool this halves the smoothing's
    cost; equal to the written-out smoothing within float32 rounding (tests/test_ranking.py).
    ``G``: the pool's Gram matrix, when already computed (:meth:`_SharedSearch.pool`).
    """

    nn: np.ndarray | None  # (n, kn) neighbour rows; None: nothing smoothed
    W: np.ndarray  # (n, kn) 1.0 where the neighbour is mutual
    f: np.ndarray  # (n,) smoothing / mutual neighbours
    norm: np.ndarray  # (n,) norm of each row before unit length

    def __init__(self, V: np.ndarray, p: RankParams, G: np.ndarray | None = None) -> None:
        self.V = V
        found = _mutual_neighbours(V, p, G)
        if found is None:
            self.nn = None
            return
        G, nn, mask = found
        W = mask.astype(V.dtype)
        count = W.sum(axis=1)
        self.nn, self.W = nn, W
        self.f = (p.smoothing / np.maximum(count, 1.0)).astype(V.dtype)
        n = len(V)
        flat = G.reshape(-1)  # G[a, b] is flat[a * n + b]: one gather, not two index arrays
        own = (W * flat[np.arange(0, n * n, n)[:, None] + nn]).sum(axis=1)  # V_i . S_i
        pairs = flat[(nn * n)[:, :, None] + nn[:, None, :]]  # G[nn[i, j], nn[i, k]]
        inner = np.einsum("ij,ijk,ik->i", W, pairs, W)  # |S_i|^2
        sq = np.diagonal(G) + 2.0 * self.f * own + self.f * self.f * inner
        norm = np.sqrt(np.maximum(sq, 0.0))
        self.norm = np.where(norm > 0, norm, 1.0).astype(V.dtype)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """``smoothed @ x``."""
        s: np.ndarray = self.V @ x
        if self.nn is None:
            return s
        out: np.ndarray = (s + self.f * (self.W * s[self.nn]).sum(axis=1)) / self.norm
        return out

    def rows(self, which: np.ndarray) -> np.ndarray:
        """The smoothed rows ``which``."""
        picked: np.ndarray = self.V[which]
        if self.nn is None:
            return picked
        S = np.einsum("ik,ikd->id", self.W[which], self.V[self.nn[which]])
        out: np.ndarray = (picked + self.f[which, None] * S) / self.norm[which, None]
        return out


def _expand(q: np.ndarray, V: _Smoothed, p: RankParams) -> np.ndarray:
    """The feedback query: ``q`` moved toward the best smoothed pool vectors."""
    s = V.scores(q)
    top = np.argsort(-s, kind="stable")[: max(p.feedback_docs, 1)]
    w = np.exp((s[top] - s[top[0]]) / p.feedback_temperature)
    return _unit(q + p.feedback_weight * (w / w.sum()) @ V.rows(top))


#: a scored pool: ids in plain-similarity order, their shipped scores, the expanded query
#: and the ids' stored vectors
Pool = tuple[list[int], np.ndarray, np.ndarray, np.ndarray]


class _SharedSearch:
    """One search's view of the index, shared by :func:`rank` and :func:`count_matches`:
    the *allowed* quotes nearest one query vector, in plain-similarity order (ties in the
    index's order), looked at only as far as asked.

    An index with ``scan`` (:class:`QuoteIndex`) is passed over once, scoring every quote;
    the order, the ids and the vectors are then read from that scan by position (no look-up
    per id), and ``allowed`` is asked only of the quotes looked at. Another
    :class:`VectorSearch` is searched again only for more quotes than before (exact search:
    a top-k is a prefix of any larger top-k).

    A pool is the first n allowed quotes, so it is a prefix of any larger pool: its vectors
    and Gram matrix are the first rows and the top-left block of the larger pool's, read
    and computed once (the first pool read is at least ``gram`` quotes: the size the
    breadth count may grow to). Scored pools are kept by size. Valid for one query vector
    and one ``allowed`` filter.
    """

    def __init__(self, index: VectorSearch, query_vector: np.ndarray,
                 allowed: Callable[[int], bool] | None, gram: int = 0) -> None:
        self.index = index
        self.query = _unit(np.asarray(query_vector, dtype=np.float32).reshape(-1))
        self.allowed = allowed
        self.gram = gram
        self.pools: dict[int, Pool] = {}
        scan = getattr(index, "scan", None)
        self._scan: Any = scan(self.query) if callable(scan) else None
        self._where = np.zeros(0, dtype=np.int64)  # by rank: position in the scan
        self._ids = np.zeros(0, dtype=np.int64)  # by rank: quote id
        self._ok = np.zeros(0, dtype=bool)  # by rank: allowed
        self._all = False  # every quote of the team is ranked
        self._block: tuple[list[int], np.ndarray] | None = None  # the largest pool read
        self._block_all = False  # ... which holds every allowed quote
        self._gram: np.ndarray | None = None  # its Gram matrix, once computed

    def _rank(self, m: int) -> None:
        """Rank the ``m`` nearest quotes (or all there are), asking ``allowed`` of the new."""
        known = len(self._ids)
        if m <= known or self._all:
            return
        if self._scan is not None:
            self._where = self._scan.best(m)
            new = self._scan.ids[self._where[known:]]
            self._all = len(self._where) < m
        else:
            hits = self.index.search(self.query, m)
            found = np.array([i for i, _ in hits], dtype=np.int64)
            self._all = len(hits) < m
            if not np.array_equal(found[:known], self._ids):  # ties broken otherwise: anew
                known, self._ids, self._ok = 0, self._ids[:0], self._ok[:0]
            new = found[known:]
        ok = (np.ones(len(new), dtype=bool) if self.allowed is None else
              np.array([self.allowed(i) for i in new.tolist()], dtype=bool))
        self._ids = np.concatenate([self._ids, new])
        self._ok = np.concatenate([self._ok, ok])

    def _first(self, n: int) -> np.ndarray:
        """Ranks of the first ``n`` allowed quotes (fewer if there are fewer)."""
        m = max(n, 32)
        while True:
            self._rank(m)
            ranks = np.flatnonzero(self._ok)
            if len(ranks) >= n or self._all:
                return ranks[:n]
            if self._scan is None:  # each search is a pass over the index: few, large ones
                m *= 4
            else:  # only ``allowed`` is asked of more: as many as the rate seen suggests
                seen = len(self._ok)
                m = seen + (seen * (n - len(ranks)) // max(len(ranks), 1)) * 5 // 4 + 32

    def _vectors(self, ranks: np.ndarray) -> np.ndarray:
        if self._scan is not None:
            return np.asarray(self._scan.vectors(self._where[ranks]), dtype=np.float32)
        return np.asarray(self.index.vectors(self._ids[ranks].tolist()), dtype=np.float32)

    def pool(self, n: int) -> tuple[list[int], np.ndarray]:
        """The first ``n`` allowed quotes (fewer if there are fewer): ids and stored vectors."""
        if self._block is None or (len(self._block[0]) < n and not self._block_all):
            size = max(n, self.gram)
            ranks = self._first(size)
            self._block = (self._ids[ranks].tolist(), self._vectors(ranks))
            self._block_all = len(ranks) < size
            self._gram = None
        ids, V = self._block
        return ids[:n], V[:n]

    def gram_matrix(self, n: int) -> np.ndarray:
        """The Gram matrix of the first ``n`` allowed quotes' vectors (n <= the largest pool
        read): the top-left block of the largest pool's, computed once."""
        if self._gram is None:
            assert self._block is not None
            V = self._block[1]
            self._gram = V @ V.T
        return self._gram[:n, :n]

    def beyond(self, seen: set[int], done: int, fetch: int
               ) -> tuple[int, list[int], np.ndarray]:
        """The allowed quotes ranked in ``[done, fetch)`` but not in ``seen``: ``(the end of
        that range, their ids, their stored vectors)``; the end is below ``fetch`` when the
        team has no more quotes."""
        self._rank(fetch)
        end = min(fetch, len(self._ids))
        ranks = done + np.flatnonzero(self._ok[done:end])
        ranks = ranks[[i not in seen for i in self._ids[ranks].tolist()]]
        return end, self._ids[ranks].tolist(), self._vectors(ranks)


def _score_pool(search: _SharedSearch, n: int, p: RankParams) -> Pool:
    """The first ``n`` allowed quotes (ids in plain-similarity order), their shipped scores,
    the expanded query and their stored vectors."""
    q = search.query
    ids, raw = search.pool(n)
    if not ids:
        return [], np.zeros(0, dtype=np.float32), q, np.zeros((0, len(q)), dtype=np.float32)
    V = _Smoothed(raw, p, search.gram_matrix(len(ids)) if _neighbour_count(len(ids), p) else None)
    q2 = _expand(q, V, p)
    return ids, V.scores(q2), q2, raw


def _pool(search: _SharedSearch, n: int, p: RankParams) -> Pool:
    """:func:`_score_pool`, computed once per size."""
    if n not in search.pools:
        search.pools[n] = _score_pool(search, n, p)
    return search.pools[n]


def newest_first_ties(ranked: list[tuple[int, float]],
                      said_at: Callable[[int], float | None]) -> list[tuple[int, float]]:
    """``ranked`` (best first) with each run of near-ties (``TIE_EPSILON``) newest first by
    ``said_at(id)`` (epoch seconds; None last)."""
    out: list[tuple[int, float]] = []
    group: list[tuple[int, float]] = []
    for item in ranked + [(-1, -np.inf)]:
        if group and group[-1][1] - item[1] > TIE_EPSILON:
            if len(group) > 1:  # look dates up only for real ties (each look-up is a query)
                ts = {i: said_at(i) for i, _ in group}
                group.sort(key=lambda h: (ts[h[0]] is None, -(ts[h[0]] or 0.0)))
            out += group
            group = []
        group.append(item)
    return out


def rank(query_vector: np.ndarray, index: VectorSearch, *, k: int,
         allowed: Callable[[int], bool] | None = None,
         said_at: Callable[[int], float | None] | None = None,
         params: RankParams = PARAMS) -> list[tuple[int, float]]:
    """Up to k (quote_id, score) best first, only ids passing ``allowed``.

    ``said_at(id)`` (epoch seconds or None) breaks near-ties newest first.
    """
    if k <= 0:
        return []
    return _rank(_SharedSearch(index, query_vector, allowed), k, said_at, params)


def _rank(search: _SharedSearch, k: int, said_at: Callable[[int], float | None] | None,
          params: RankParams) -> list[tuple[int, float]]:
    ids, scores, _, _ = _pool(search, max(params.pool, 2 * k), params)
    order = np.argsort(-scores, kind="stable")[:k]
    ranked = [(ids[i], float(scores[i])) for i in order]
    return newest_first_ties(ranked, said_at) if said_at else ranked


def count_matches(query_vector: np.ndarray, index: VectorSearch,
                  allowed: Callable[[int], bool] | None = None, *,
                  threshold: float | None = None, model: CountModel = MATCH_MODEL,
                  params: RankParams = PARAMS) -> list[tuple[int, float]]:
    """The allowed quotes counted as matching the topic, best first.

    By default the count is ``model``'s expected count (:class:`CountModel`): the best-scored
    quotes, as many as the probabilities of the candidates add up to (at least those scoring
    >= ``model.floor``; none when the nearest quote's plain cosine is below ``model.gate``).
    With ``threshold``, every quote scoring >= it instead (one absolute threshold: what
    bench/breadth.py compares against).

    Candidates: the pool grows (up to ``COUNT_POOL_MAX``) until its last quarter by plain
    similarity holds nothing that would count (probability sum < 1/4, or no score >=
    ``threshold``) or the index is exhausted. Past that cap, the next quotes by plain
    similarity are scored without smoothing (cosine to the expanded query), a growing step at
    a time, until a step's last quarter holds nothing scoring >= ``threshold`` (by default:
    >= ``model.floor``): every quote examined comes from the query's own scan
    (:class:`_SharedSearch`), none from a second pass over the index.
    """
    return _count(_SharedSearch(index, query_vector, allowed), threshold, model, params)


def _count(search: _SharedSearch, threshold: float | None, model: CountModel,
           params: RankParams) -> list[tuple[int, float]]:
    n = params.pool
    ids, scores, q2, raw = _pool(search, n, params)
    if not ids:
        return []
    background = float(scores.min())
    if threshold is None:
        if float(raw[0] @ search.query) < model.gate:  # ids in plain order: raw[0] is nearest
            return []
        low, beyond = model.lowest(background), model.floor

        def more(s: np.ndarray) -> bool:
            return float(model.probability(s, background).sum()) >= 0.25
    else:
        low = beyond = threshold

        def more(s: np.ndarray) -> bool:
            return bool((s >= threshold).any())
    while len(ids) == n and n < COUNT_POOL_MAX and more(scores[-(n // 4):]):
        n = min(4 * n, COUNT_POOL_MAX)
        ids, scores, q2, raw = _pool(search, n, params)
    kept = np.flatnonzero(scores >= low)
    found_ids, found_scores = [np.asarray(ids)[kept]], [scores[kept]]
    # capped: the rest scoring >= ``beyond`` (the model's floor: summing small probabilities
    # over thousands of quotes past the pool would only add noise), in plain order, a step
    # (the allowed quotes ranked in [done, fetch)) at a time
    if len(ids) == n and (scores[-(n // 4):] >= beyond).any():
        seen, done, fetch = set(ids), 0, 2 * n
        while True:
            end, step, vectors = search.beyond(seen, done, fetch)
            hit = np.zeros(0, dtype=bool)
            if step:
                s2 = vectors @ q2
                hit = s2 >= beyond
                found_ids.append(np.asarray(step)[hit])
                found_scores.append(s2[hit])
            if end < fetch or (step and not hit[-max(len(step) // 4, 1):].any()):
                break
            done, fetch = end, fetch * 4
    # best first, equal scores in the order found (a stable sort); the ids are distinct
    all_ids = np.concatenate(found_ids)
    all_scores = np.concatenate(found_scores)
    order = np.argsort(-all_scores, kind="stable")
    got = all_scores[order].astype(np.float64)
    if threshold is None:
        expected = int(np.floor(model.probability(got, background).sum() + 0.5))
        order = order[:max(expected, int((got >= model.floor).sum()))]
    return list(zip(all_ids[order].tolist(), all_scores[order].tolist()))


def rank_and_count(query_vector: np.ndarray, index: VectorSearch, *, k: int,
                   allowed: Callable[[int], bool] | None = None,
                   said_at: Callable[[int], float | None] | None = None,
                   threshold: float | None = None, model: CountModel = MATCH_MODEL,
                   params: RankParams = PARAMS,
                   ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """``(rank(...), count_matches(...))`` for one query, from one scan of the team's vectors.

    Same results as the two calls apart. An index with ``scan`` (:class:`QuoteIndex`) is
    passed over once, scoring every quote, and that scan serves both pools and the count's
    tail; another :class:`VectorSearch` is searched once at the size the count may grow to.
    The first pool read is of that size too, with its Gram matrix, whose top-left block is
    the smaller pool's (:class:`_SharedSearch`).
    """
    search = _SharedSearch(index, query_vector, allowed,
                           gram=max(COUNT_POOL_MAX, params.pool, 2 * k))
    ranked = _rank(search, k, said_at, params) if k > 0 else []
    return ranked, _count(search, threshold, model, params)


_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Case-, accent-, punctuation-, emoji- and whitespace-insensitive form of a quote."""
    if text.isascii():  # the same result without NFKD and the per-character loop
        t = text.lower()
    else:
        t = unicodedata.normalize("NFKD", text).casefold()
        t = "".join(c for c in t if not unicodedata.combining(c))
    return _SPACE.sub(" ", _PUNCT.sub(" ", t)).strip()


def same_text(a: str, b: str, min_words: int = 4) -> bool:
    """Equal normalized texts, or one (of at least ``min_words`` words) contained in the other."""
    if a == b:
        return bool(a)
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short.split()) >= min_words and f" {short} " in f" {long_} "


@dataclass(frozen=True)
class Candidate:
    """A ranked quote as :func:`diversify` sees it (``text_key``: its words)."""

    id: int
    score: float
    speaker_key: str | None
    company_key: str | None
    text_key: str
    vector: np.ndarray | None = None

    @cached_property
    def normalized(self) -> str:
        """``normalize_text(text_key)``, computed once however many pairs it is compared in."""
        return normalize_text(self.text_key)


def is_near_duplicate(a: Candidate, b: Candidate) -> bool:
    """Same words re-captured: same/contained normalized text or cosine >= threshold."""
    return near_duplicate(a.normalized, a.vector, b.normalized, b.vector)


def near_duplicate(a: str, a_vector: np.ndarray | None, b: str,
                   b_vector: np.ndarray | None) -> bool:
    """:func:`is_near_duplicate` of two quotes' normalized texts (:func:`normalize_text`)
    and vectors."""
    if same_text(a, b):
        return True
    if a_vector is None or b_vector is None:
        return False
    return float(np.dot(a_vector, b_vector)) >= NEAR_DUPLICATE_THRESHOLD


def diversify(candidates: Sequence[Candidate], k: int = 5, max_per_source: int = 2,
              margin: float = DIVERSITY_MARGIN) -> list[Candidate]:
    """Pick k to show: near-duplicates once, at most ``max_per_source`` per speaker/company.

    A capped candidate is passed over only for one whose score is within ``margin`` of it;
    otherwise it is shown (fill rather than show fewer). Result is best first.
    """
    pool: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: -c.score):
        if not any(is_near_duplicate(c, kept) for kept in pool):
            pool.append(c)
    chosen: list[Candidate] = []
    speakers: dict[str, int] = {}
    companies: dict[str, int] = {}

    def capped(c: Candidate) -> bool:
        return (c.speaker_key is not None and speakers.get(c.speaker_key, 0) >= max_per_source) or (
            c.company_key is not None and companies.get(c.company_key, 0) >= max_per_source)

    while pool and len(chosen) < k:
        pick = pool[0]
        if capped(pick):
            alt = next((c for c in pool if not capped(c)), None)
            if alt is not None and alt.score >= pick.score - margin:
                pick = alt
        pool.remove(pick)
        chosen.append(pick)
        if pick.speaker_key is not None:
            speakers[pick.speaker_key] = speakers.get(pick.speaker_key, 0) + 1
        if pick.company_key is not None:
            companies[pick.company_key] = companies.get(pick.company_key, 0) + 1
    return sorted(chosen, key=lambda c: -c.score)
