"""Ingest: the raw model's encode beside the app's Embedder and end-to-end import_quotes."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.perf.common import TEAM, cprofile_text, log, now
from bench.perf.databases import BenchDatabases
from bench.perf.report import Results


def bench_ingest(db: BenchDatabases, embedder, baseline, texts: list[str], batch: int,
                 rounds: int, res: Results) -> None:
    """The ONNX model's raw bulk encode vs import_quotes on it vs today's sentence-transformers
    import (``baseline``), on the same texts, interleaved.

    The texts are split in chunks of ``batch`` (import_quotes' batch size, so the raw model
    is handed exactly the texts one import transaction encodes); each chunk is encoded by the
    raw model (``embedder.encode``: tokenize + ONNX Runtime, vectors only), imported end to
    end with it (DB writes, the emotion head on the same pass), and imported end to end with
    ``baseline`` (sentence-transformers + torch, as before ONNX), each into its own database,
    in a rotating order so load drift on a shared machine hits all alike; ``rounds`` passes,
    each into a new team. Throughput = texts / summed time; the ratios are medians over
    chunks of time ratios on the same chunk (a burst of load from elsewhere skews one chunk,
    not the ratio).
    """
    from bot.config import Settings
    from bot.container import build_services
    from store.queries.quotes import NewQuote

    url, base_url = db.fresh("ingest"), db.fresh("ingestst")
    services = build_services(Settings(database_url=url), embedder=embedder)
    base = build_services(Settings(database_url=base_url), embedder=baseline)
    try:
        embedder.encode(texts[:16])  # warm-up
        baseline.encode(texts[:16])
        size = max(1, batch)
        parts = [texts[i : i + size] for i in range(0, len(texts), size)]
        spent = {"raw": 0.0, "ingest": 0.0, "baseline": 0.0}
        ratios: list[float] = []
        speedups: list[float] = []
        line = 0
        team = TEAM

        def importer(svc) -> Callable[[list[str]], None]:  # type: ignore[no-untyped-def]
            def ingest(chunk: list[str]) -> None:
                nonlocal line
                items = []
                for t in chunk:
                    line += 1
                    items.append((line, NewQuote(
                        team_id=team, text=t, speaker_name=f"Customer {line % 97}",
                        company=f"Company {line % 31}", segment="smb")))
                summary = svc.imports.import_quotes(items, batch_size=batch)
                if summary.added != len(chunk):
                    raise RuntimeError(f"import added {summary.added} of {len(chunk)}")
            return ingest

        steps: list[tuple[str, Callable[[list[str]], None]]] = [
            ("raw", embedder.encode), ("ingest", importer(services)),
            ("baseline", importer(base))]
        done = 0
        for r in range(rounds):
            team = f"{TEAM}{r}"
            for n, chunk in enumerate(parts):
                k = n + r
                took: dict[str, float] = {}
                for name, fn in steps[k % 3:] + steps[: k % 3]:
                    t = now()
                    fn(chunk)
                    took[name] = now() - t
                    spent[name] += took[name]
                ratios.append(took["raw"] / took["ingest"])
                speedups.append(took["baseline"] / took["ingest"])
                done += len(chunk)
                log(f"ingest round {r + 1}/{rounds} chunk {n + 1}/{len(parts)}: " + ", ".join(
                    f"{k} {done / v:.0f}/s" for k, v in spent.items()) +
                    f"; this chunk raw/ingest {ratios[-1]:.0%}, "
                    f"sentence-transformers/ONNX {speedups[-1]:.2f}x")
            if len(services.indexes.get(team)) != len(texts):
                raise RuntimeError("the index does not hold every imported quote")
        res.ingest_n = len(texts)
        res.ingest_batch = batch
        res.ingest_rounds = rounds
        res.raw_qps = done / spent["raw"]
        res.ingest_qps = done / spent["ingest"]
        res.baseline_qps = done / spent["baseline"]
        res.ingest_ratio_median = statistics.median(ratios)
        res.ingest_speedup_median = statistics.median(speedups)
    finally:
        services.close()
        base.close()
        db.drop(url)
        db.drop(base_url)


def profile_ingest(db: BenchDatabases, embedder, texts: list[str]) -> str:
    """cProfile of import_quotes on ``texts`` (top functions by cumulative time)."""
    import cProfile

    from bot.config import Settings
    from bot.container import build_services
    from store.queries.quotes import NewQuote

    url = db.fresh("ingestprof")
    services = build_services(Settings(database_url=url), embedder=embedder)
    try:
        items = [(i, NewQuote(team_id=TEAM, text=t)) for i, t in enumerate(texts, 1)]
        prof = cProfile.Profile()
        prof.enable()
        services.imports.import_quotes(items)
        prof.disable()
    finally:
        services.close()
        db.drop(url)
    return cprofile_text(prof, 18)
