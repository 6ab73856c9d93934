"""The shipped ranking's contract with plain dense retrieval, on the test embedder.

bench/QUALITY.md measures the real contract (at least as good as plain dense on every column);
these are the properties of it that hold for any embedder and can be asserted without a model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from store.retrieval import ranking
from store.retrieval.embeddings import HashingEmbedder

FEEDBACK = Path(__file__).resolve().parent.parent / "bench" / "data" / "feedback"


class Matrix:
    """Brute-force :class:`ranking.VectorSearch` over the rows of a matrix."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = X

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        s = self.X @ vector
        order = np.argsort(-s, kind="stable")[:k]
        return [(int(i), float(s[i])) for i in order]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        return self.X[np.asarray(ids, dtype=np.int64)]


@pytest.fixture(scope="module")
def feedback() -> tuple[list[str], np.ndarray]:
    with open(FEEDBACK / "quotes.jsonl", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    return texts, HashingEmbedder().encode(texts)


def test_the_feedback_set_is_what_the_bench_says(feedback: tuple[list[str], np.ndarray]) -> None:
    """>= 150 multi-sentence quotes over >= 15 themes, each topic naming real themes."""
    with open(FEEDBACK / "quotes.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    with open(FEEDBACK / "topics.jsonl", encoding="utf-8") as f:
        topics = [json.loads(line) for line in f]
    themes = {r["theme"] for r in rows}
    assert len(rows) >= 150 and len(themes) >= 15
    assert all(set(t["themes"]) <= themes and t["themes"] for t in topics)


def test_a_topic_that_is_a_quotes_exact_words_finds_that_quote_first(
        feedback: tuple[list[str], np.ndarray]) -> None:
    """Feedback and smoothing never pull another quote above a perfect match."""
    texts, X = feedback
    index = Matrix(X)
    for i in range(len(texts)):
        assert ranking.rank(X[i], index, k=5)[0][0] == i, texts[i]


def test_ranking_only_reorders_what_plain_dense_found(
        feedback: tuple[list[str], np.ndarray]) -> None:
    """Every ranked quote is in plain dense's pool for the query: the ranking reorders the
    query's own neighbours, it never brings in a quote the query did not reach."""
    texts, X = feedback
    small = ranking.RankParams(pool=20)
    topics = HashingEmbedder().encode(["export times out", "too many emails",
                                       "login with Okta fails", "price per seat"])
    for q in topics:
        pool = {i for i, _ in Matrix(X).search(q, small.pool)}
        got = ranking.rank(q, Matrix(X), k=10, params=small)
        assert len(got) == 10 and {i for i, _ in got} <= pool
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)


def test_natural_topic_files_follow_the_rules() -> None:
    """bench/data/*_topics.jsonl: >= 80 topics each, 5-14 words, never the label's words."""
    for corpus in ("banking77", "clinc150"):
        with open(FEEDBACK.parent / f"{corpus}_topics.jsonl", encoding="utf-8") as f:
            topics = [json.loads(line) for line in f]
        assert len(topics) >= 80
        for t in topics:
            assert 5 <= len(t["topic"].split()) <= 14, t
            for label in t["labels"]:
                assert label.lower().replace("_", " ").rstrip("?") not in t["topic"].lower(), t
