"""Ranking (baseline until the benchmarked version lands): dense retrieval with
pseudo-relevance feedback, plus diversity and a match threshold."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

MATCH_THRESHOLD = 0.5
NEAR_DUPLICATE_THRESHOLD = 0.95


class VectorSearch(Protocol):
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def vectors(self, ids: Sequence[int]) -> np.ndarray: ...


def _filtered(index: VectorSearch, vector: np.ndarray, k: int,
              allowed: Callable[[int], bool] | None) -> list[tuple[int, float]]:
    fetch = k
    while True:
        hits = index.search(vector, fetch)
        kept = [h for h in hits if allowed is None or allowed(h[0])]
        if len(kept) >= k or len(hits) < fetch:
            return kept[:k]
        fetch *= 4


def rank(query_vector: np.ndarray, index: VectorSearch, *, k: int,
         allowed: Callable[[int], bool] | None = None) -> list[tuple[int, float]]:
    first = _filtered(index, query_vector, max(k, 10), allowed)
    if not first:
        return []
    top = index.vectors([i for i, _ in first[:5]])
    expanded = query_vector + 0.5 * top.mean(axis=0)
    expanded = expanded / (np.linalg.norm(expanded) or 1.0)
    return _filtered(index, expanded.astype(np.float32), k, allowed)


def count_matches(query_vector: np.ndarray, index: VectorSearch,
                  allowed: Callable[[int], bool] | None = None) -> list[tuple[int, float]]:
    hits = _filtered(index, query_vector, 1000, allowed)
    return [(i, s) for i, s in hits if s >= MATCH_THRESHOLD]


@dataclass(frozen=True)
class Candidate:
    id: int
    score: float
    speaker_key: str | None
    company_key: str | None
    text_key: str
    vector: np.ndarray | None = None


def diversify(candidates: Sequence[Candidate], k: int = 5, max_per_source: int = 2,
              margin: float = 0.1) -> list[Candidate]:
    chosen: list[Candidate] = []
    for c in candidates:
        if any(c.text_key == o.text_key or (c.vector is not None and o.vector is not None and
               float(c.vector @ o.vector) >= NEAR_DUPLICATE_THRESHOLD) for o in chosen):
            continue
        chosen.append(c)
    return chosen[:k]
