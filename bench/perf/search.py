"""Search latency at one stored size: the app's index (one NumPy pass) beside FAISS's
``IndexFlatIP`` (the engine before it) and brute-force NumPy, index upserts, and
SearchService.search end to end with the embedder `voicebot serve` runs (the bundled model
on ONNX Runtime at one thread)."""

from __future__ import annotations

import statistics

from bench.perf.common import (
    CHANNEL,
    K_RAW,
    TEAM,
    Latency,
    cprofile_text,
    import_batch_size,
    now,
)
from bench.perf.report import Results, SizeResult
from bench.perf.stages import stage_breakdown


def numpy_search(mat, q, k: int):
    import numpy as np

    scores = mat @ q
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


def bench_size(url: str, size: int, embedder, vecs, qvecs, topics: list[str], n_queries: int,
               res: Results, profile: bool, breakdown: bool) -> None:
    """QuoteIndex vs FAISS vs NumPy, index upserts, and SearchService end to end at ``size``
    stored quotes
    (and its stages when ``breakdown``); appends a SizeResult to ``res.sizes``."""
    import numpy as np
    from sqlalchemy import select

    from bot.blas import limit_blas
    from bot.config import Settings
    from bot.container import build_services
    from bot.core.query import parse_query
    from store.models import Quote

    limit_blas(1)  # as `voicebot serve` (bot/server.py); the ingest above ran at the default
    t = now()
    services = build_services(Settings(database_url=url), embedder=embedder)
    index_load = now() - t
    try:
        index = services.indexes.get(TEAM)
        if len(index) != size:
            raise RuntimeError(f"index holds {len(index)} quotes, expected {size}")
        with services.sessions() as session:
            ids = np.asarray(session.scalars(select(Quote.id).where(Quote.team_id == TEAM)
                                             .order_by(Quote.id)).all(), dtype=np.int64)
        mat = np.ascontiguousarray(vecs[:size])
        qs = [qvecs[i % len(qvecs)] for i in range(n_queries)]
        import faiss

        flat = faiss.IndexFlatIP(mat.shape[1])  # FAISS, the engine before QuoteIndex
        flat.add(mat)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        scan = services.indexes.scanner
        parts = getattr(scan, "threads", 1)
        app_threads = f"scan on {parts} thread{'s' if parts > 1 else ''}"
        for q in qs[:10]:  # warm-up
            index.search(q, K_RAW)
            flat.search(q[None, :], K_RAW)
            numpy_search(mat, q, K_RAW)
        f_times, f1_times, n_times, agree = [], [], [], 0
        try:
            for q in qs:  # alternate so drift hits all alike
                t = now()
                f_hits = index.search(q, K_RAW)
                f_times.append(now() - t)
                t = now()
                flat.search(q[None, :], K_RAW)
                f1_times.append(now() - t)
                t = now()
                top = numpy_search(mat, q, K_RAW)
                n_times.append(now() - t)
                agree += [i for i, _ in f_hits] == ids[top].tolist()
        finally:
            faiss.omp_set_num_threads(threads)
        del flat

        # What an import batch / a captured quote costs the index at this size (appended
        # rows; the matrix grows by a quarter when full); removed again afterwards.
        import_batch = import_batch_size()
        fresh_ids = list(range(10**9, 10**9 + import_batch))
        batch = np.ascontiguousarray(mat[:import_batch])
        t = now()
        index.upsert(fresh_ids[: len(batch)], batch)
        upsert_batch = now() - t
        index.remove(fresh_ids)
        ones = []
        for j in range(5):
            t = now()
            index.upsert([fresh_ids[j]], batch[j : j + 1])
            ones.append(now() - t)
        index.remove(fresh_ids)
        if len(index) != size:
            raise RuntimeError("the index did not go back to its size after the upsert probe")

        queries = [parse_query(topics[i % len(topics)]) for i in range(n_queries)]
        for qq in queries[:5]:
            services.search.search(TEAM, qq, limit=5, channel_id=CHANNEL)
        s_times = []
        for qq in queries:
            t = now()
            result = services.search.search(TEAM, qq, limit=5, channel_id=CHANNEL)
            s_times.append(now() - t)
            if not result.hits:
                raise RuntimeError(f"no hits for {qq.topic!r}")
        stages: dict[str, dict[str, float]] = {}
        nested: dict[str, str] = {}
        if breakdown:
            stages, nested = stage_breakdown(services, queries[: max(20, len(queries) // 2)])
        if profile:
            res.profile += profile_search(services, queries[: min(50, len(queries))], size)
        res.sizes.append(SizeResult(
            size, Latency.of(f_times), Latency.of(f1_times), Latency.of(n_times),
            Latency.of(s_times), index_load, stages, nested,
            agree / len(qs), upsert_batch * 1000, statistics.median(ones) * 1000, app_threads))
    finally:
        services.close()


def profile_search(services, queries, size: int) -> str:
    import cProfile

    prof = cProfile.Profile()
    prof.enable()
    for qq in queries:
        services.search.search(TEAM, qq, limit=5, channel_id=CHANNEL)
    prof.disable()
    return (f"\n### cProfile: {len(queries)} x SearchService.search at {size:,} quotes\n"
            + cprofile_text(prof, 40))
