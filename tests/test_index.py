"""The index agrees with brute force; one scan orders every quote; the index is rebuilt from
stored vectors; a model change re-embeds."""

from __future__ import annotations

import numpy as np
import pytest

from store.queries.quotes import NewQuote
from store.retrieval import ranking
from store.retrieval.embeddings import HashingEmbedder
from store.retrieval.index import IndexRegistry, QuoteIndex, Scan
from tests.close import assert_same_ranking


def test_index_matches_numpy_brute_force_exactly() -> None:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(2000, 48)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = rng.permutation(100_000)[:2000]
    index = QuoteIndex(48)
    index.upsert(list(ids), vecs)
    for _ in range(25):
        query = rng.normal(size=48).astype(np.float32)
        query /= np.linalg.norm(query)
        got = index.search(query, 10)
        scores = vecs @ query
        order = np.argsort(-scores, kind="stable")[:10]
        assert [i for i, _ in got] == [int(ids[o]) for o in order]
        assert np.allclose([s for _, s in got], scores[order], atol=1e-5)


def test_upsert_replaces_and_remove_deletes() -> None:
    index = QuoteIndex(4)
    eye = np.eye(4, dtype=np.float32)
    index.upsert([7, 8], eye[:2])
    index.upsert([7], eye[2:3])
    assert len(index) == 2
    assert index.search(eye[2], 1) == [(7, 1.0)]
    index.remove([7])
    assert 7 not in index and index.search(eye[2], 5) == [(8, 0.0)]
    index.remove([7, 99])  # already gone / never there: nothing happens
    assert len(index) == 1 and 8 in index
    index.upsert([8, 9], eye[[3, 0]])  # a mix of a replacement and a new id
    assert len(index) == 2 and sorted(index.ids().tolist()) == [8, 9]
    np.testing.assert_array_equal(index.vectors([9, 8]), eye[[0, 3]])
    with pytest.raises(KeyError):
        index.vectors([8, 7])
    with pytest.raises(ValueError, match="twice"):
        index.upsert([5, 5], eye[:2])
    assert len(index) == 2 and index.vectors([]).shape == (0, 4)


@pytest.mark.parametrize("n", [10, 5000, 20_000, 100_000])
@pytest.mark.parametrize("ties", [True, False])
def test_a_scan_orders_best_first_with_ties_in_index_order(n: int, ties: bool) -> None:
    rng = np.random.default_rng(n)
    scores = (rng.integers(0, 50, n) if ties else rng.normal(size=n)).astype(np.float32)
    scan = Scan(ids=np.arange(n, dtype=np.int64) + 7, scores=scores)
    expected = np.argsort(-scores, kind="stable")
    for k in (1, 7, 400, 800, 3200, 4097, 12_800, n):  # growing, as the breadth count asks
        np.testing.assert_array_equal(scan.best(k), expected[: min(k, n)])
    assert scan.hits(3) == [(int(i) + 7, float(scores[i])) for i in expected[:3]]


def test_the_sampled_cut_keeps_the_same_positions_as_a_full_partition() -> None:
    """at_least narrows a large scan by a sample of every SAMPLE_STEP-th score; where the
    sample misleads (the best scores all outside it, or all inside it) it still returns every
    score >= the want-th best, in position order."""
    from store.retrieval.index import SAMPLE_MIN, SAMPLE_STEP, at_least

    n = 4 * SAMPLE_MIN
    rng = np.random.default_rng(9)
    sampled = np.arange(0, n, SAMPLE_STEP)
    outside = rng.normal(size=n).astype(np.float32)
    outside[sampled] -= 10.0  # the sample holds only the worst scores
    inside = rng.normal(size=n).astype(np.float32)
    inside[sampled] += 10.0  # the sample holds only the best: too few reach its cut
    flat = np.zeros(n, dtype=np.float32)  # one score, all tied
    for scores in (outside, inside, flat, rng.normal(size=n).astype(np.float32)):
        for want in (1, 5, 1024, 4000, n // 4):
            cut = np.partition(scores, n - want)[n - want]
            np.testing.assert_array_equal(at_least(scores, want), np.flatnonzero(scores >= cut))


def test_a_scan_reads_vectors_by_position_until_the_index_changes() -> None:
    """Scan.vectors reads the rows where the scan found the quotes; once a row has moved
    (a removal moves the last row into the gap) or been replaced, it reads by id, as
    QuoteIndex.vectors does."""
    rng = np.random.default_rng(2)
    vecs = rng.normal(size=(50, 8)).astype(np.float32)
    index = QuoteIndex(8)
    index.upsert(list(range(100, 150)), vecs)
    scan = index.scan(vecs[0])
    top = scan.best(10)
    np.testing.assert_array_equal(scan.vectors(top), index.vectors(scan.ids[top].tolist()))
    index.remove([int(scan.ids[top[-1]])])  # the last row moves into its place
    index.upsert([int(scan.ids[top[0]])], -vecs[:1])  # replaced in place
    kept = top[:-1]
    np.testing.assert_array_equal(scan.vectors(kept), index.vectors(scan.ids[kept].tolist()))
    np.testing.assert_array_equal(scan.vectors(kept[:1]), -vecs[:1])
    with pytest.raises(KeyError):  # gone from the index: as QuoteIndex.vectors
        scan.vectors(top[-1:])


@pytest.mark.parametrize("threads", [1, 2])
def test_a_split_scan_scores_like_one_pass(monkeypatch: pytest.MonkeyPatch,
                                           threads: int) -> None:
    monkeypatch.setattr("store.retrieval.index.SPLIT_MIN", 100)
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(1001, 16)).astype(np.float32)
    index = IndexRegistry(16, scan_threads=threads).get("T1")
    index.upsert(list(range(1001)), vecs)
    query = rng.normal(size=16).astype(np.float32)
    np.testing.assert_allclose(index.scan(query).scores, vecs @ query, rtol=1e-5, atol=1e-5)


def test_rank_and_count_pass_over_a_teams_vectors_once() -> None:
    """The ranking's pools and the breadth count, past its pool cap too, come from one scan."""
    rng = np.random.default_rng(5)
    centre = rng.normal(size=32)
    vecs = centre + rng.normal(scale=0.4, size=(3000, 32))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    index = QuoteIndex(32)
    index.upsert(list(range(1, 3001)), vecs)
    scans: list[int] = []
    original = index.scan
    index.scan = lambda v: scans.append(1) or original(v)  # type: ignore[method-assign]
    index.search = None  # type: ignore[assignment, method-assign]  # never asked to search
    query = (centre / np.linalg.norm(centre)).astype(np.float32)
    ranked, matched = ranking.rank_and_count(query, index, k=20, threshold=0.3)
    assert len(scans) == 1 and len(ranked) == 20
    assert len(matched) > ranking.COUNT_POOL_MAX  # the count went past its pool cap


class CountingEmbedder(HashingEmbedder):
    def __init__(self, name: str = "hashing-test") -> None:
        super().__init__(name=name)
        self.encoded = 0

    def encode(self, texts, **kw):  # type: ignore[no-untyped-def]
        self.encoded += len(texts)
        return super().encode(texts, **kw)


def test_restart_rebuilds_from_stored_vectors_without_encoding(make_services, database_url) -> None:  # type: ignore[no-untyped-def]
    first = make_services(database_url)
    rows = [(i, NewQuote(team_id="T1" if i % 2 else "T2", text=f"words {i} here"))
            for i in range(30)]
    first.imports.import_quotes(rows)
    counting = CountingEmbedder()
    second = make_services(database_url, embedder=counting)
    assert counting.encoded == 0
    assert len(second.indexes.get("T1")) == 15 and len(second.indexes.get("T2")) == 15
    for team in ("T1", "T2"):
        a, b = first.indexes.get(team), second.indexes.get(team)
        ids = sorted(a.ids().tolist())
        assert ids == sorted(b.ids().tolist())
        assert np.array_equal(a.vectors(ids), b.vectors(ids))


def test_other_model_vectors_are_reembedded_with_progress(make_services, database_url) -> None:  # type: ignore[no-untyped-def]
    old = make_services(database_url, embedder=HashingEmbedder(name="old-model"))
    old.imports.import_quotes([(i, NewQuote(team_id="T1", text=f"text {i}")) for i in range(12)])
    counting = CountingEmbedder(name="new-model")
    seen: list[int] = []
    started: list[int] = []
    new = make_services(database_url, embedder=counting, progress=seen.append,
                        on_reembed_start=started.append)
    assert counting.encoded == 12 and started == [12] and sum(seen) == 12
    with new.sessions() as s:
        from sqlalchemy import select

        from store.models import Quote
        assert set(s.scalars(select(Quote.embedding_model))) == {"new-model"}
    assert len(new.indexes.get("T1")) == 12


def test_start_up_copy_reads_the_same_vectors_as_the_row_path(make_services,
                                                               database_url) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL copies each team's largest group of vectors in one COPY; what it reads
    (vectors, ids, another model's or size's rows set aside, quotes with no vector) is
    exactly what the page-by-page path reads. On SQLite both calls take the row path."""
    from sqlalchemy import select, update

    from bot.core.indexing import StoredVectors
    from store.models import Quote

    a, b = HashingEmbedder(name="model-a"), HashingEmbedder(name="model-b", dim=24)
    first = make_services(database_url, embedder=a)
    first.imports.import_quotes([(i, NewQuote(team_id="T1", text=f"words {i} a"))
                                 for i in range(40)])
    first.imports.import_quotes([(i, NewQuote(team_id="T2", text=f"words {i} b"))
                                 for i in range(5)])
    other = make_services(database_url, embedder=b, load_indexes=False)
    other.imports.import_quotes([(i, NewQuote(team_id=t, text=f"other {i} {t}"))
                                 for t, n in (("T1", 7), ("T2", 9), ("T3", 3))
                                 for i in range(n)])
    with first.sessions.begin() as s:  # a vector with no model, and no vector
        ids = sorted(s.scalars(select(Quote.id).where(Quote.team_id == "T1")))
        s.execute(update(Quote).where(Quote.id == ids[3]).values(embedding=None))
        s.execute(update(Quote).where(Quote.id == ids[5]).values(embedding_model=None))
        s.execute(update(Quote).where(Quote.id == ids[6]).values(embedding=b"\x00" * 10))
    with first.sessions() as s:
        fast = StoredVectors.read(s)
    with first.sessions() as s:
        rows = StoredVectors.read(s, copy=False)
    assert sorted(fast.missing) == sorted(rows.missing) == [ids[3]]
    assert set(fast.teams) == set(rows.teams) == {"T1", "T2", "T3"}
    for model, size in (("model-a", 4 * a.dim), ("model-b", 4 * b.dim)):
        for team in ("T1", "T2", "T3"):
            got = [t.take(model, size) for t in (fast.teams[team], rows.teams[team])]
            (fast_ids, fast_matrix, fast_stale), (row_ids, row_matrix, row_stale) = got
            assert sorted(fast_stale) == sorted(row_stale)
            assert all(type(i) is int for i in fast_stale)
            assert sorted(fast_ids.tolist()) == sorted(row_ids.tolist())
            assert fast_matrix.dtype == np.float32 and fast_matrix.shape[1] == size // 4
            fast_by_id = dict(zip(fast_ids.tolist(), fast_matrix[: len(fast_ids)]))
            for i, vector in zip(row_ids.tolist(), row_matrix[: len(row_ids)]):
                assert np.array_equal(fast_by_id[i], vector)
    t1 = fast.teams["T1"].take("model-a", 4 * a.dim)
    assert len(t1[0]) == 37 and sorted(t1[2]) == sorted(
        [ids[5], ids[6]] + [i for i in ids if i > ids[39]])


def test_search_many_is_scan_hits_of_each_row_ties_in_index_order() -> None:
    """search_many orders only what reaches each row's k-th best score; the hits are those of
    Scan.hits on the same scores, equal scores (repeated vectors) in index order."""
    rng = np.random.default_rng(1)
    for n in (1, 3, 6, 100, 5000):
        vecs = rng.normal(size=(n, 16)).astype(np.float32)
        vecs[n // 2:] = vecs[: n - n // 2]  # repeated vectors: equal scores
        index = QuoteIndex(16)
        index.upsert([int(i) + 1 for i in rng.permutation(10 * n)[:n]], vecs)
        queries = np.concatenate([vecs[:50], rng.normal(size=(20, 16)).astype(np.float32)])
        for k in (1, 5, 10):
            want = []
            for start in range(0, len(queries), 64):
                scores = queries[start : start + 64] @ vecs.T
                want += [Scan(ids=index.ids(), scores=row).hits(k) for row in scores]
            got = index.search_many(queries, k)
            assert len(got) == len(want)
            for row, expected in zip(got, want):
                assert_same_ranking(row, expected)


def test_best_rows_is_best_first_of_each_row() -> None:
    """search_many's whole-block selection keeps, per row, exactly best_first(row, k)[:k]:
    ties at the cut and inside the k in position order (rounded scores make many ties)."""
    from store.retrieval.index import best_first, best_rows

    rng = np.random.default_rng(7)
    for n in (1, 4, 5, 6, 300, 9000):
        ids = np.arange(10, 10 + n, dtype=np.int64)[rng.permutation(n)]
        for rounding in (None, 1):
            scores = rng.normal(size=(40, n)).astype(np.float32)
            if rounding is not None:
                scores = np.round(scores, rounding)
            for k in (1, 5, 7):
                want = [list(zip(ids[top].tolist(), row[top].tolist()))
                        for row in scores for top in [best_first(row, k)[:k]]]
                assert best_rows(scores, ids, k) == want


def test_search_many_blocks_score_alike() -> None:
    """The default block (every query of an import batch at once against a small team) finds
    what blocks of 64 queries find."""
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(3000, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = QuoteIndex(384)
    index.upsert(list(range(1, 3001)), vecs)
    queries = vecs[2488:]
    whole, blocks = index.search_many(queries, 5), index.search_many(queries, 5, block=64)
    assert len(whole) == len(blocks) == len(queries)
    for row, expected in zip(whole, blocks):
        assert_same_ranking(row, expected)


def test_the_id_map_behaves_as_a_dict_through_any_sequence_of_changes() -> None:
    """QuoteIndex keeps quote id -> row in two sorted arrays (RowMap), not a dict of int
    objects: random loads, upserts (new, replaced, out of order), removals and look-ups give
    what a dict and a list of rows give."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        index = QuoteIndex(4)
        model: dict[int, np.ndarray] = {}
        start = rng.choice(np.arange(1, 400), size=int(rng.integers(0, 40)), replace=False)
        vecs = rng.normal(size=(len(start) + 3, 4)).astype(np.float32)
        index.load(start, vecs)
        model.update((int(i), vecs[k].copy()) for k, i in enumerate(start))
        for _ in range(30):
            action = rng.integers(0, 3)
            if action == 0:  # upsert: some new (ascending or not), some replaced
                ids = rng.choice(np.arange(1, 600), size=int(rng.integers(1, 8)), replace=False)
                v = rng.normal(size=(len(ids), 4)).astype(np.float32)
                index.upsert(ids.tolist(), v)
                model.update((int(i), v[k].copy()) for k, i in enumerate(ids))
            elif action == 1:  # remove, some not there
                ids = rng.choice(np.arange(1, 600), size=int(rng.integers(1, 6)), replace=False)
                index.remove(ids.tolist())
                for i in ids:
                    model.pop(int(i), None)
            else:
                probe = rng.choice(np.arange(1, 600), size=10)
                assert [int(i) in index for i in probe] == [int(i) in model for i in probe]
            assert len(index) == len(model)
            assert sorted(index.ids().tolist()) == sorted(model)
            if model:
                keys = list(model)
                rng.shuffle(keys)
                assert np.array_equal(index.vectors(keys), np.stack([model[k] for k in keys]))
        missing = max(model, default=0) + 1
        with pytest.raises(KeyError):
            index.vectors([missing])


def test_load_refuses_an_id_twice() -> None:
    with pytest.raises(ValueError, match="same quote id twice"):
        QuoteIndex(4).load(np.array([3, 1, 3]), np.zeros((3, 4), dtype=np.float32))


def test_present_reads_the_ids_that_are_there_with_their_vectors() -> None:
    """present(ids): those of ``ids`` in the index, in the order asked, and exactly their
    stored vectors (what a ``in`` check per id and vectors() of the rest gave), in one look-up."""
    rng = np.random.default_rng(5)
    vecs = rng.normal(size=(6, 4)).astype(np.float32)
    index = QuoteIndex(4)
    index.upsert([10, 20, 30, 40, 50, 60], vecs)
    index.remove([30])
    ids, got = index.present([60, 30, 999, 10, 20])
    assert ids == [60, 10, 20]
    assert np.array_equal(got, np.stack([vecs[5], vecs[0], vecs[1]]))
    assert np.array_equal(got, index.vectors(ids))
    none, empty = index.present([])
    assert none == [] and empty.shape == (0, 4)
    assert index.present([7])[0] == [] and index.present([7])[1].shape == (0, 4)
