"""Ingest: the raw model's encode beside the app's Embedder and end-to-end import_quotes."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.perf.common import TEAM, cprofile_text, log, now
from bench.perf.databases import BenchDatabases
from bench.perf.report import Results


def bench_ingest(db: BenchDatabases, embedder, texts: list[str], batch: int, rounds: int,
                 res: Results) -> None:
    """Raw model vs Embedder.encode vs import_quotes on the same texts, interleaved.

    The texts are split in chunks of ``batch`` (import_quotes' batch size, so the raw model
    is handed exactly the texts one import transaction encodes); each chunk is encoded by the
    raw model, by the app's Embedder wrapper, and imported end to end (DB writes included),
    in a rotating order so load drift on a shared machine hits all three alike; ``rounds``
    passes, each importing into a new team. Throughput = texts / summed time; the ratio is
    the median over chunks of raw time / import time on the same chunk (a burst of load from
    elsewhere skews one chunk, not the ratio).
    """
    from bot.config import Settings
    from bot.container import build_services
    from store.queries.quotes import NewQuote

    model = getattr(embedder, "_model", None)

    def raw(chunk: list[str]) -> None:
        if model is None:
            embedder.encode(chunk)
        else:  # what sentence-transformers does when handed the whole list
            model.encode(chunk, batch_size=64, normalize_embeddings=True,
                         convert_to_numpy=True, show_progress_bar=False)

    url = db.fresh("ingest")
    services = build_services(Settings(database_url=url), embedder=embedder)
    try:
        raw(texts[:16])  # warm-up
        embedder.encode(texts[:16])
        size = max(1, batch)
        parts = [texts[i : i + size] for i in range(0, len(texts), size)]
        spent = {"raw": 0.0, "wrapper": 0.0, "ingest": 0.0}
        ratios: list[float] = []
        line = 0
        team = TEAM

        def ingest(chunk: list[str]) -> None:
            nonlocal line
            items = []
            for t in chunk:
                line += 1
                items.append((line, NewQuote(
                    team_id=team, text=t, speaker_name=f"Customer {line % 97}",
                    company=f"Company {line % 31}", segment="smb")))
            summary = services.imports.import_quotes(items, batch_size=batch)
            if summary.added != len(chunk):
                raise RuntimeError(f"import added {summary.added} of {len(chunk)}")

        steps: list[tuple[str, Callable[[list[str]], None]]] = [
            ("raw", raw), ("wrapper", embedder.encode), ("ingest", ingest)]
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
                done += len(chunk)
                log(f"ingest round {r + 1}/{rounds} chunk {n + 1}/{len(parts)}: " + ", ".join(
                    f"{k} {done / v:.0f}/s" for k, v in spent.items()) +
                    f"; this chunk ingest/raw {ratios[-1]:.0%}")
            if len(services.indexes.get(team)) != len(texts):
                raise RuntimeError("the index does not hold every imported quote")
        res.ingest_n = len(texts)
        res.ingest_batch = batch
        res.ingest_rounds = rounds
        res.raw_qps = done / spent["raw"]
        res.wrapper_qps = done / spent["wrapper"]
        res.ingest_qps = done / spent["ingest"]
        res.ingest_ratio_median = statistics.median(ratios)
    finally:
        services.close()
        db.drop(url)


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
