"""store.retrieval.ranking on small synthetic vectors and a brute-force index (no model)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from store.retrieval import ranking
from store.retrieval.ranking import Candidate, RankParams
from tests.close import assert_same_ranking

DENSE_ONLY = replace(ranking.PARAMS, neighbours=0, feedback_weight=0.0)  # score == cosine
FEEDBACK_ONLY = replace(ranking.PARAMS, neighbours=0)
SMALL_POOL = replace(ranking.PARAMS, pool=31)  # full neighbour count on a 31-quote corpus


class BruteIndex:
    """A :class:`ranking.VectorSearch` over {quote_id: vector}, recording what was asked."""

    def __init__(self, vectors: dict[int, np.ndarray]) -> None:
        self.ids = np.array(list(vectors), dtype=np.int64)
        self.X = ranking._unit(np.stack(list(vectors.values())).astype(np.float32))
        self.asked: list[int] = []

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        self.asked.append(k)
        s = self.X @ vector
        order = np.argsort(-s, kind="stable")[:k]
        return [(int(self.ids[i]), float(s[i])) for i in order]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        pos = {int(q): n for n, q in enumerate(self.ids)}
        return self.X[[pos[int(i)] for i in ids]]


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def random_index(n: int, dim: int = 16, seed: int = 0) -> tuple[BruteIndex, np.random.Generator]:
    rng = np.random.default_rng(seed)
    return BruteIndex({1000 + i: rng.normal(size=dim) for i in range(n)}), rng


def test_rank_returns_the_k_best_best_first() -> None:
    index, rng = random_index(500)
    q = unit(rng.normal(size=16))
    got = ranking.rank(q, index, k=10, params=DENSE_ONLY)
    cos = index.X @ q
    want = [int(index.ids[i]) for i in np.argsort(-cos)[:10]]
    assert [i for i, _ in got] == want
    assert np.allclose([s for _, s in got], np.sort(cos)[::-1][:10], atol=1e-5)
    shipped = ranking.rank(q, index, k=10)
    scores = [s for _, s in shipped]
    assert len(shipped) == 10 and len({i for i, _ in shipped}) == 10
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 + 1e-6 for s in scores)


def test_rank_on_a_small_team_returns_what_there_is() -> None:
    index, rng = random_index(3)
    assert len(ranking.rank(unit(rng.normal(size=16)), index, k=10)) == 3
    assert ranking.rank(unit(rng.normal(size=16)), index, k=0) == []
    empty = BruteIndex({1: np.ones(4)})
    assert ranking.rank(np.ones(4, np.float32), empty, k=5, allowed=lambda i: False) == []


def test_a_tiny_team_keeps_the_plain_order() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        index = BruteIndex({1: rng.normal(size=8), 2: rng.normal(size=8), 3: rng.normal(size=8)})
        q = unit(rng.normal(size=8))
        plain = [i for i, _ in ranking.rank(q, index, k=3, params=DENSE_ONLY)]
        assert ranking.rank(q, index, k=3)[0][0] == plain[0]  # not averaged into one blob


def test_allowed_is_respected_and_over_fetch_still_yields_k() -> None:
    index, rng = random_index(3000)
    q = unit(rng.normal(size=16))
    allowed = lambda i: i % 50 == 0  # noqa: E731 - 60 of 3000 quotes pass
    got = ranking.rank(q, index, k=20, allowed=allowed, params=replace(DENSE_ONLY, pool=20))
    assert len(got) == 20 and all(allowed(i) for i, _ in got)
    assert max(index.asked) > 20  # it had to look past the first page
    cos = index.X @ q
    best_allowed = [int(index.ids[i]) for i in np.argsort(-cos) if allowed(int(index.ids[i]))][:20]
    assert [i for i, _ in got] == best_allowed
    few = ranking.rank(q, index, k=20, allowed=lambda i: i in (1001, 1002, 1003))
    assert sorted(i for i, _ in few) == [1001, 1002, 1003]  # fewer than k: all that exist


def cluster_and_singletons(dim: int = 32, seed: int = 1) -> tuple[BruteIndex, np.ndarray]:
    """Query e0; 30 quotes in one tight cluster at cos ~0.70; one lone quote at cos ~0.71."""
    rng = np.random.default_rng(seed)
    e = np.eye(dim)
    noise = np.hstack([np.zeros(8), np.ones(dim - 8)])  # orthogonal to e0..e7
    vecs = {i: e[0] + e[1] + 0.05 * noise * rng.normal(size=dim) for i in range(30)}
    vecs[100] = e[0] + 0.99 * e[2]
    return BruteIndex(vecs), e[0].astype(np.float32)


def test_feedback_moves_the_ranking_toward_the_dense_cluster() -> None:
    index, q = cluster_and_singletons()
    dense = ranking.rank(q, index, k=3, params=DENSE_ONLY)
    assert dense[0][0] == 100  # plain cosine: the lone quote wins
    for params in (FEEDBACK_ONLY, ranking.PARAMS, SMALL_POOL):
        got = [i for i, _ in ranking.rank(q, index, k=31, params=params)]
        assert got[-1] == 100 and sorted(got[:30]) == list(range(30)), params


def test_smoothing_pulls_cluster_members_together_but_not_a_lone_quote() -> None:
    index, q = cluster_and_singletons()
    plain = dict(ranking.rank(q, index, k=31, params=FEEDBACK_ONLY))
    smooth = dict(ranking.rank(q, index, k=31, params=SMALL_POOL))
    assert np.std([smooth[i] for i in range(30)]) < np.std([plain[i] for i in range(30)])
    V = index.vectors(list(range(30)) + [100])
    S = ranking._Smoothed(V, SMALL_POOL).rows(np.arange(len(V)))
    assert np.allclose(S[-1], V[-1])  # no mutual neighbour: unchanged
    assert not np.allclose(S[0], V[0])


def test_near_ties_are_broken_newest_first() -> None:
    v = np.array([1.0, 0.0, 0.0])
    index = BruteIndex({1: v, 2: v, 3: v, 4: np.array([0.6, 0.8, 0.0])})
    said = {1: 100.0, 2: 300.0, 3: None, 4: 999.0}
    got = ranking.rank(v.astype(np.float32), index, k=4, said_at=said.get, params=DENSE_ONLY)
    assert [i for i, _ in got] == [2, 1, 3, 4]  # ties newest first, unknown date last


def test_count_matches_with_a_threshold_counts_every_score_above_it() -> None:
    index, rng = random_index(400)
    q = unit(rng.normal(size=16))
    cos = index.X @ q
    got = ranking.count_matches(q, index, threshold=0.2, params=DENSE_ONLY)
    assert sorted(i for i, _ in got) == sorted(int(index.ids[i])
                                               for i in np.flatnonzero(cos >= 0.2))
    assert all(s >= 0.2 for _, s in got)
    odd = ranking.count_matches(q, index, allowed=lambda i: i % 2 == 1, threshold=0.2,
                                params=DENSE_ONLY)
    assert {i for i, _ in odd} == {i for i, _ in got if i % 2 == 1}


def at_cosines(q: np.ndarray, cosines: Sequence[float] | np.ndarray,
               rng: np.random.Generator) -> list[np.ndarray]:
    """Unit vectors whose cosine to the unit vector q is exactly each of ``cosines``."""
    out = []
    for c in cosines:
        r = rng.normal(size=len(q))
        r -= (r @ q) * q
        out.append(c * q + np.sqrt(1 - c * c) * r / np.linalg.norm(r))
    return out


def test_the_default_count_is_the_expected_number_of_matches() -> None:
    """Sum of the model's probabilities (background = the first pool's lowest score), rounded;
    the quotes counted are that many best-scored ones."""
    index, rng = random_index(600, dim=8)
    model = ranking.MATCH_MODEL
    for _ in range(5):
        q = unit(rng.normal(size=8))
        cos = index.X @ q
        background = float(np.sort(cos)[::-1][DENSE_ONLY.pool - 1])
        s = cos[cos >= model.lowest(background)]
        want = max(int(np.floor(model.probability(s, background).sum() + 0.5)),
                   int((s >= model.floor).sum()))
        got = ranking.count_matches(q, index, params=DENSE_ONLY)
        assert len(got) == want > 0
        best = np.argsort(-cos, kind="stable")[:want]
        assert {i for i, _ in got} == {int(index.ids[i]) for i in best}


def test_a_theme_among_unrelated_quotes_is_counted_though_its_cosines_are_modest() -> None:
    """Ten multi-sentence quotes at cosine 0.72-0.78 to a short topic, among 300 unrelated
    ones: the count is about ten, where one absolute threshold of 0.8 would say none."""
    rng = np.random.default_rng(11)
    q = unit(rng.normal(size=64))
    theme = at_cosines(q, np.linspace(0.72, 0.78, 10), rng)
    other = at_cosines(q, rng.uniform(-0.1, 0.3, 300), rng)
    index = BruteIndex({i: v for i, v in enumerate(theme + other)})
    got = {i for i, _ in ranking.count_matches(q, index, params=DENSE_ONLY)}
    assert 7 <= len(got) <= 13 and len(got & set(range(10))) >= 7
    assert not ranking.count_matches(q, index, threshold=0.8, params=DENSE_ONLY)


def test_the_same_cosines_count_less_where_everything_is_that_close() -> None:
    """Read against the background: 0.75 stands out among quotes at 0.1, not among 300
    quotes at 0.7 (banking77's neighbouring intents), which one threshold of 0.69 would all
    count."""
    rng = np.random.default_rng(12)
    q = unit(rng.normal(size=64))
    theme = at_cosines(q, [0.75] * 10, rng)
    quiet = BruteIndex({i: v for i, v in enumerate(theme + at_cosines(q, [0.1] * 300, rng))})
    busy = BruteIndex({i: v for i, v in enumerate(theme + at_cosines(q, [0.7] * 300, rng))})
    in_quiet = {i for i, _ in ranking.count_matches(q, quiet, params=DENSE_ONLY)}
    in_busy = {i for i, _ in ranking.count_matches(q, busy, params=DENSE_ONLY)}
    assert 7 <= len(in_quiet) <= 13 and in_quiet <= set(range(10))
    assert len(ranking.count_matches(q, busy, threshold=0.69, params=DENSE_ONLY)) == 310
    assert 10 <= len(in_busy) < 310 // 4 and set(range(10)) <= in_busy


def test_a_topic_nothing_is_close_to_counts_nothing() -> None:
    rng = np.random.default_rng(13)
    q = unit(rng.normal(size=64))
    gate = ranking.MATCH_MODEL.gate
    far = BruteIndex({i: v for i, v in enumerate(at_cosines(q, rng.uniform(-0.2, gate - 0.01,
                                                                         200), rng))})
    assert ranking.count_matches(q, far, params=DENSE_ONLY) == []
    open_gate = replace(ranking.MATCH_MODEL, gate=-1.0)
    assert ranking.count_matches(q, far, model=open_gate, params=DENSE_ONLY)


def test_quotes_above_the_floor_are_always_counted() -> None:
    index, rng = random_index(400, dim=8)
    q = unit(rng.normal(size=8))
    stingy = replace(ranking.MATCH_MODEL, intercept=-100.0, floor=0.6)
    got = ranking.count_matches(q, index, model=stingy, params=DENSE_ONLY)
    assert len(got) == int((index.X @ q >= 0.6).sum()) > 0


@pytest.mark.parametrize("pool_max", [2000, 300])
def test_count_matches_is_not_cut_off_by_the_pool(monkeypatch: pytest.MonkeyPatch,
                                                  pool_max: int) -> None:
    rng = np.random.default_rng(3)
    q = np.zeros(8, np.float32)
    q[0] = 1
    vecs = {i: q + 0.3 * rng.normal(size=8) for i in range(900)}  # most match
    vecs |= {5000 + i: -q + 0.3 * rng.normal(size=8) for i in range(300)}  # none match
    index = BruteIndex(vecs)
    monkeypatch.setattr(ranking, "COUNT_POOL_MAX", pool_max)
    params = replace(DENSE_ONLY, pool=50)
    got = ranking.count_matches(q, index, threshold=0.5, params=params)
    want = {int(index.ids[i]) for i in np.flatnonzero(index.X @ q >= 0.5)}
    assert len(want) > 600 and {i for i, _ in got} == want
    above_floor = {int(index.ids[i])
                   for i in np.flatnonzero(index.X @ q >= ranking.MATCH_MODEL.floor)}
    counted = {i for i, _ in ranking.count_matches(q, index, params=params)}
    assert len(above_floor) > 300 and above_floor <= counted  # a theme larger than the pool


def cand(i: int, score: float, speaker: str | None = None, company: str | None = None,
         text: str | None = None, vec: np.ndarray | None = None) -> Candidate:
    return Candidate(i, score, speaker, company, text if text is not None else f"quote {i}", vec)


def test_diversify_caps_a_speaker_when_comparable_alternatives_exist() -> None:
    cands = [cand(1, .90, "ann"), cand(2, .89, "ann"), cand(3, .88, "ann"), cand(4, .87, "ann"),
             cand(5, .86, "bob"), cand(6, .85, "cy"), cand(7, .84, "dee")]
    shown = ranking.diversify(cands, k=5, max_per_source=2, margin=0.05)
    assert [c.id for c in shown] == [1, 2, 5, 6, 7]
    scores = [c.score for c in shown]
    assert scores == sorted(scores, reverse=True)


def test_diversify_caps_a_company_too() -> None:
    cands = [cand(i, .9 - i / 100, f"p{i}", "acme") for i in range(4)] + [
        cand(10, .85, "z", "globex"), cand(11, .84, None, None)]
    shown = ranking.diversify(cands, k=4, max_per_source=2, margin=0.1)
    assert [c.id for c in shown] == [0, 1, 10, 11]


def test_diversify_fills_rather_than_showing_fewer() -> None:
    same = [cand(i, .9 - i / 100, "ann") for i in range(4)]
    assert [c.id for c in ranking.diversify(same + [cand(9, .2, "bob")], k=5)] == [0, 1, 2, 3, 9]
    # the only alternative is far less relevant than the margin allows: the capped one is shown
    shown = ranking.diversify(same + [cand(9, .5, "bob")], k=3, margin=0.05)
    assert [c.id for c in shown] == [0, 1, 2]


def test_diversify_shows_near_duplicates_once() -> None:
    rng = np.random.default_rng(4)
    v = unit(rng.normal(size=16))
    close = unit(v + 0.01 * rng.normal(size=16))
    other = unit(rng.normal(size=16))
    assert float(v @ close) >= ranking.NEAR_DUPLICATE_THRESHOLD > float(v @ other)
    cands = [
        cand(1, .9, "a", text="Pricing is way too high for us!", vec=v),
        cand(2, .89, "b", text="  pricing is WAY too high for us ", vec=other),  # same words
        cand(3, .88, "c", text="Customer said: pricing is way too high for us 🙏", vec=other),
        cand(4, .87, "d", text="different words entirely", vec=close),  # same vector
        cand(5, .86, "e", text="another distinct quote", vec=other),
        cand(6, .85, "f", text="yet another distinct quote", vec=None),
    ]
    shown = ranking.diversify(cands, k=5)
    assert [c.id for c in shown] == [1, 5, 6]  # duplicates collapse onto the best of them


def test_text_normalization_and_containment() -> None:
    assert ranking.normalize_text("  “Pricing,  is TOO high!” 😡\n") == "pricing is too high"
    assert ranking.normalize_text("Café") == ranking.normalize_text("cafe")
    assert ranking.same_text("the export keeps failing", "the export keeps failing")
    assert ranking.same_text("the export keeps failing", "ugh the export keeps failing again")
    assert not ranking.same_text("too slow", "it is too slow for us")  # too short to contain
    assert not ranking.same_text("voice 12", "voice 1")
    assert not ranking.same_text("", "")


def test_params_are_a_frozen_dataclass() -> None:
    assert isinstance(ranking.PARAMS, RankParams)
    with pytest.raises(AttributeError):
        ranking.PARAMS.pool = 1  # type: ignore[misc]


@pytest.mark.parametrize("with_filter", [False, True])
def test_rank_and_count_equal_the_two_calls_with_fewer_scans(with_filter: bool) -> None:
    """One /voice search ranks and counts from one shared scan of the query (bench/PERF.md)."""
    rng = np.random.default_rng(7)
    centre = unit(rng.normal(size=32))
    vectors = {i: centre + rng.normal(scale=0.35 if i % 3 else 0.9, size=32)
               for i in range(1, 1500)}
    query = unit(centre + rng.normal(scale=0.2, size=32))
    allowed = (lambda i: i % 7 != 0) if with_filter else None
    apart = BruteIndex(vectors)
    expected = (ranking.rank(query, apart, k=20, allowed=allowed),
                ranking.count_matches(query, apart, allowed, threshold=0.5))
    together = BruteIndex(vectors)
    got = ranking.rank_and_count(query, together, k=20, allowed=allowed, threshold=0.5)
    assert_same_ranking(got[0], expected[0])
    assert_same_ranking(got[1], expected[1])
    assert len(expected[1]) > ranking.PARAMS.pool  # the count had to grow past the first pool
    assert len(together.asked) < len(apart.asked)


def _smooth_dense(V: np.ndarray, p: ranking.RankParams) -> np.ndarray:
    """The smoothing as first shipped (a dense 0/1 mutual-neighbour matrix times V)."""
    kn = min(p.neighbours, len(V) * p.neighbours // max(p.pool, 1), len(V) - 1)
    if kn <= 0 or p.smoothing == 0:
        return V
    G = V @ V.T
    np.fill_diagonal(G, -np.inf)
    nn = np.argpartition(-G, kn - 1, axis=1)[:, :kn]
    A = np.zeros(G.shape, dtype=V.dtype)
    np.put_along_axis(A, nn, 1.0, axis=1)
    A *= A.T
    count = A.sum(axis=1, keepdims=True)
    return ranking._unit(V + p.smoothing * (A @ V) / np.maximum(count, 1.0))


def _expand_dense(q: np.ndarray, V: np.ndarray, p: ranking.RankParams) -> np.ndarray:
    """The feedback query as first shipped, from the smoothed matrix written out."""
    s = V @ q
    top = np.argsort(-s, kind="stable")[: max(p.feedback_docs, 1)]
    w = np.exp((s[top] - s[top[0]]) / p.feedback_temperature)
    return ranking._unit(q + p.feedback_weight * (w / w.sum()) @ V[top])


def test_smoothed_scores_equal_the_written_out_smoothing_at_every_pool_size() -> None:
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((12, 64)).astype(np.float32)
    for n in (2, 5, 19, 200, 400):
        V = ranking._unit(centres[rng.integers(0, 12, n)]
                          + 0.8 * rng.standard_normal((n, 64)).astype(np.float32))
        q = ranking._unit(rng.standard_normal(64).astype(np.float32))
        for p in (ranking.PARAMS, SMALL_POOL, FEEDBACK_ONLY):
            dense = _smooth_dense(V, p)
            smoothed = ranking._Smoothed(V, p)
            assert np.allclose(smoothed.rows(np.arange(n)), dense, atol=1e-5)
            assert np.allclose(smoothed.scores(q), dense @ q, atol=1e-5), (n, p)
            top = np.array([0, n - 1, n // 2])
            assert np.allclose(smoothed.rows(top), dense[top], atol=1e-5)
            q2 = ranking._expand(q, smoothed, p)
            assert np.allclose(q2, _expand_dense(q, dense, p), atol=1e-5)


@pytest.mark.parametrize("team", [3, 25, 150, 399, 401, 1200])
@pytest.mark.parametrize("with_filter", [False, True])
def test_shared_pools_score_as_pools_read_apart(team: int, with_filter: bool) -> None:
    """rank_and_count reads its pools as one block (the 200-quote pool's vectors and Gram
    matrix are the first rows and top-left block of the 400-quote pool's) from one scan of a
    QuoteIndex, by position: what rank and count_matches return with each pool read and
    multiplied on its own (within float32 rounding: tests/close.py), on small teams and under
    a filter too."""
    from store.retrieval.index import QuoteIndex

    rng = np.random.default_rng(team)
    centres = rng.normal(size=(6, 48))
    X = ranking._unit((centres[rng.integers(0, 6, team)]
                       + rng.normal(scale=0.6, size=(team, 48))).astype(np.float32))
    index = QuoteIndex(48)
    index.upsert([int(i) for i in rng.permutation(10 * team)[:team] + 1], X)
    allowed = (lambda i: i % 5 != 0) if with_filter else None
    asked: list[int] = []

    def recording(i: int) -> bool:
        asked.append(i)
        return allowed is None or allowed(i)

    for q in ranking._unit(centres[:3] + rng.normal(scale=0.3, size=(3, 48))):
        for k in (20, 300):  # 300: the ranking's own pool (600) is the larger one
            for threshold in (None, 0.3):
                apart = (ranking.rank(q, index, k=k, allowed=allowed),
                         ranking.count_matches(q, index, allowed, threshold=threshold))
                asked.clear()
                together = ranking.rank_and_count(q, index, k=k, allowed=recording,
                                                  threshold=threshold)
                assert_same_ranking(together[0], apart[0])
                assert_same_ranking(together[1], apart[1])
                assert len(asked) == len(set(asked))  # each quote's filter asked once


def test_an_index_that_breaks_ties_otherwise_at_each_k_never_yields_a_quote_twice() -> None:
    """Another VectorSearch may order equal scores differently from one k to the next; the
    shared search then starts its order over instead of appending a differently-cut tail."""

    class Shuffling(BruteIndex):
        def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
            self.asked.append(k)
            s = self.X @ vector
            order = np.random.default_rng(k).permutation(len(s))  # ties: another order per k
            order = order[np.argsort(-s[order], kind="stable")][:k]
            return [(int(self.ids[i]), float(s[i])) for i in order]

    rng = np.random.default_rng(8)
    base = rng.normal(size=(60, 16))
    index = Shuffling({i: base[i % 60] for i in range(1, 1201)})  # every vector 20 times
    q = unit(base[0] + 0.3 * rng.normal(size=16))
    ranked, matched = ranking.rank_and_count(q, index, k=20, allowed=lambda i: i % 9 != 0,
                                             threshold=-1.0)  # every quote counts
    assert len(index.asked) > 1  # it searched again, for more
    for got in (ranked, matched):
        ids = [i for i, _ in got]
        assert len(ids) == len(set(ids)) and all(i % 9 for i in ids)
    assert {i for i, _ in matched} == {i for i in range(1, 1201) if i % 9}  # tail included
    search = ranking._SharedSearch(index, q, lambda i: i % 9 != 0)
    for n in (50, 200, 800):  # each pool read asks for more than the last
        ids, V = search.pool(n)
        assert len(ids) == len(set(ids)) == n == len(V)
