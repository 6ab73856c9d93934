"""CPU cost of one /voice ranking (``ranking.rank_and_count`` on a ``QuoteIndex``), this tree
(or ``--after``, a git revision) against another git revision, in one process.

The stored vectors are bench/perf's (``bench.perf.corpus``): ``--pool`` real sentences of
banking77/clinc150 encoded by the bundled ONNX model, fanned out with Gaussian noise to each
size; the queries are the corpora's label names, encoded by the same model. The searches
answer as in a channel (every 100th quote hidden, as SearchService's ``allowed``), with
SearchService's ``k`` for a first page of 5. ``--before`` (a git revision) is loaded from git
into separate modules (its ranking.py and index.py) over the same matrix as this tree's (or
``--after``'s). Each query runs both, in alternating order (the machine is shared: drift
hits both alike), and both must return the same ids in the same order, the same counts and
scores equal within float32 rounding. ``scan`` is the index's one pass alone (the floor
both share). BLAS and the scan run on one thread.

    python bench/rank_cost.py [--before main] [--after REV] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.perf.common import DEFAULT_DATA, pct  # noqa: E402
from bench.perf.corpus import load_corpus, make_vectors  # noqa: E402


def from_git(rev: str, path: str, name: str) -> types.ModuleType:
    """``path`` as it is at ``rev``, imported as a module called ``name``."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(name)
    module.__file__ = f"{rev}:{path}"
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def vectors(data: Path, pool: int, cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(pool vectors, topic vectors) from the bundled model, cached in ``cache`` if given."""
    if cache is not None and cache.is_file():
        got = np.load(cache)
        return got["pool"], got["topics"]
    from bot.config import Settings
    from bot.container import make_embedder

    corpus = load_corpus(data)
    model = make_embedder(Settings())
    pool_vecs = model.encode(corpus.texts[2000 : 2000 + pool])  # as bench.perf's defaults
    topic_vecs = model.encode(corpus.topics)
    if cache is not None:
        np.savez(cache, pool=pool_vecs, topics=topic_vecs)
    return pool_vecs, topic_vecs


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say which vectors :func:`vectors` makes (shared with
    bench/views_cost.py)."""
    parser.add_argument("--pool", type=int, default=5000)
    parser.add_argument("--noise", type=float, default=0.02)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=None,
                        help="an .npz to keep the encoded vectors in between runs")


def same(a: Any, b: Any) -> bool:
    """Equal ids in order and equal scores within float32 rounding, for both lists."""
    return all([i for i, _ in x] == [i for i, _ in y]
               and np.allclose([s for _, s in x], [s for _, s in y], rtol=0, atol=1e-5)
               for x, y in zip(a, b))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="git revision to compare against")
    parser.add_argument("--after", default=None, help="git revision (default: this tree)")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=150, help="per size (topics cycled)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the queries")
    add_corpus_arguments(parser)
    args = parser.parse_args()

    from bot.blas import limit_blas

    limit_blas(1)  # as `voicebot serve`
    before_index = from_git(args.before, "store/retrieval/index.py", "_before_index")
    before_ranking = from_git(args.before, "store/retrieval/ranking.py", "_before_ranking")
    if args.after is None:
        from store.retrieval import index as after_index
        from store.retrieval import ranking as after_ranking
    else:
        after_index = from_git(args.after, "store/retrieval/index.py", "_after_index")
        after_ranking = from_git(args.after, "store/retrieval/ranking.py", "_after_ranking")
    pool_vecs, topic_vecs = vectors(args.data, args.pool, args.cache)
    sizes = [int(s) for s in args.sizes.split(",")]
    all_vecs = make_vectors(pool_vecs, max(sizes), args.noise)
    k = 20  # SearchService: max(4 * (offset + limit), 20) for the first page of 5
    print(f"before = {args.before}, after = {args.after or 'this tree'}; {args.queries} "
          f"queries x {args.rounds} rounds per size, k={k}, 1% hidden, BLAS and scan on 1 "
          "thread")
    for size in sizes:
        ids = np.arange(1, size + 1, dtype=np.int64)
        matrix = np.ascontiguousarray(all_vecs[:size])
        indexes = {}
        for name, mod in (("before", before_index), ("after", after_index)):
            indexes[name] = mod.QuoteIndex(matrix.shape[1])
            indexes[name].load(ids, matrix)  # both over the same matrix, not copied
        rankers = {"before": before_ranking.rank_and_count,
                   "after": after_ranking.rank_and_count}
        filters = {"before": Hidden(size), "after": Hidden(size)}
        queries = [topic_vecs[i % len(topic_vecs)] for i in range(args.queries)]
        for q in queries[:10]:  # warm-up
            for name in rankers:
                rankers[name](q, indexes[name], k=k, allowed=filters[name])
        for f in filters.values():
            f.asked = 0
        took: dict[str, list[float]] = {x: [] for x in ("before", "after", "scan",
                                                         "before CPU", "after CPU")}
        pairs: list[float] = []
        cpu_pairs: list[float] = []
        pooled = {"200": 0, "400": 0}
        exact = 0
        for r in range(args.rounds):
            for n, q in enumerate(queries):
                order = ["before", "after"] if (n + r) % 2 else ["after", "before"]
                got = {}
                spent = {}
                cpu = {}
                for name in order:
                    c, t = time.thread_time(), time.perf_counter()
                    got[name] = rankers[name](q, indexes[name], k=k, allowed=filters[name])
                    spent[name] = time.perf_counter() - t
                    cpu[name] = time.thread_time() - c
                    took[name].append(spent[name])
                    took[f"{name} CPU"].append(cpu[name])
                if not same(got["before"], got["after"]):
                    raise SystemExit(f"results differ at {size} quotes, query {n}")
                exact += got["before"] == got["after"]
                pairs.append(spent["after"] / spent["before"])
                cpu_pairs.append(cpu["after"] / max(cpu["before"], 1e-9))
                t = time.perf_counter()
                indexes["after"].scan(q)
                took["scan"].append(time.perf_counter() - t)
                if r == 0:
                    pooled["400" if _grew(before_ranking, q, indexes["before"], Hidden(size))
                           else "200"] += 1
        print(f"\n{size:,} quotes ({pooled['400']} of {len(queries)} queries' counts grew "
              f"to the 400 pool; {exact} of {len(pairs)} results bitwise equal):")
        print(f"  the channel's filter was asked {filters['before'].asked / len(pairs):.0f} "
              f"(before) and {filters['after'].asked / len(pairs):.0f} (after) times a query")
        print(f"  {'':10} {'median ms':>10} {'p95 ms':>8}   (wall; CPU: this thread's time)")
        for name, values in took.items():
            ms = [v * 1000 for v in values]
            print(f"  {name:10} {statistics.median(ms):10.3f} {pct(ms, 95):8.3f}")
        for label, x, y, ratios in (("wall", "before", "after", pairs),
                                    ("CPU", "before CPU", "after CPU", cpu_pairs)):
            b, a = np.array(took[x]), np.array(took[y])
            print(f"  after/before ({label}): median of per-query ratios "
                  f"{statistics.median(ratios):.3f}, ratio of medians "
                  f"{np.median(a) / np.median(b):.3f}, of p95 {pct(a, 95) / pct(b, 95):.3f}")
        b, a = (np.array(took[x]) for x in ("before", "after"))
        s = np.array(took["scan"])
        print(f"  beyond the scan (median - scan median): before "
              f"{(np.median(b) - np.median(s)) * 1000:.3f} ms, after "
              f"{(np.median(a) - np.median(s)) * 1000:.3f} ms")
    return 0


class Hidden:
    """SearchService's filter in a channel where every 100th quote is private to another
    one; counts how often it is asked."""

    def __init__(self, size: int) -> None:
        self.hidden = set(range(100, size + 1, 100))
        self.asked = 0

    def __call__(self, quote_id: int) -> bool:
        self.asked += 1
        return quote_id not in self.hidden


class _Reads:
    """A :class:`ranking.VectorSearch` over ``index`` (without its scan) that records how
    many vectors each pool read."""

    def __init__(self, index: Any) -> None:
        self.index = index
        self.read: list[int] = []

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.index.search(vector, k)  # type: ignore[no-any-return]

    def vectors(self, ids: Any) -> np.ndarray:
        self.read.append(len(ids))
        return self.index.vectors(ids)  # type: ignore[no-any-return]


def _grew(ranking: Any, q: np.ndarray, index: Any, allowed: Any) -> bool:
    """Whether this query's count scored the larger pool (its second read of vectors)."""
    reads = _Reads(index)
    ranking.count_matches(q, reads, allowed)
    return len(reads.read) > 1 and reads.read[1] > ranking.PARAMS.pool


if __name__ == "__main__":
    sys.exit(main())
