"""Ingest: the raw model's encode beside the app's Embedder and end-to-end import_quotes."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING

from bench.perf.common import TEAM, cprofile_text, log, now
from bench.perf.databases import BenchDatabases
from bench.perf.report import Results

if TYPE_CHECKING:
    from bot.core.vectors import Encoder


def bench_ingest(db: BenchDatabases, embedder, baseline, texts: list[str], batch: int,
                 rounds: int, res: Results, per_call: int = 0) -> None:
    """The ONNX model's raw bulk encode vs import_quotes on it vs today's sentence-transformers
    import (``baseline``), on the same texts, interleaved.

    The texts are split in chunks of ``per_call`` texts (0: one chunk of them all, imported by
    one ``import_quotes`` call in batches of ``batch`` as `voicebot import` imports a file,
    encoding a batch while the one before it is stored; ``batch``: one import transaction per
    call, nothing to overlap). The raw runs encode each chunk a ``batch`` at a time, as the
    import hands the model its texts, so both sort and pad the same batches. Each chunk
    goes through

    - ``raw``: the exported encoder alone (``embedder.encode``: tokenize + ONNX Runtime,
      vectors only);
    - ``raw_full``: the whole exported model, vectors and emotions (:func:`full_model`:
      tokenize + the encoder, whose second output feeds the emotion head's ONNX graph; no
      text cues, calibration or database): what an import has to run at the least;
    - ``ingest``: import_quotes end to end with it (dedupe lookups, the same pass, the cues
      and calibration, INSERT, FAISS add, near-duplicate links);
    - ``baseline``: the same import with sentence-transformers + torch (as before ONNX),

    each import into its own database, in a rotating order so load drift on a shared machine
    hits all alike; ``rounds`` passes, each into a new team. Throughput = texts / summed
    time; the ratios are medians over chunks of time ratios on the same chunk (a burst of
    load from elsewhere skews one chunk, not the ratio).
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
        size = per_call if per_call > 0 else len(texts)
        parts = [texts[i : i + size] for i in range(0, len(texts), size)]
        spent = {"raw": 0.0, "raw_full": 0.0, "ingest": 0.0, "baseline": 0.0}
        ratios: list[float] = []
        full_ratios: list[float] = []
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

        def in_batches(encode: Callable[[list[str]], object]) -> Callable[[list[str]], None]:
            """``encode`` a batch at a time, as an import hands the model its texts (each
            batch sorted by length on its own, so both pad alike)."""
            def run(chunk: list[str]) -> None:
                for start in range(0, len(chunk), batch):
                    encode(chunk[start : start + batch])
            return run

        steps: list[tuple[str, Callable[[list[str]], None]]] = [
            ("raw", in_batches(embedder.encode)),
            ("raw_full", in_batches(full_model(services.encoder))),
            ("ingest", importer(services)), ("baseline", importer(base))]
        done = 0
        for r in range(rounds):
            team = f"{TEAM}{r}"
            for n, chunk in enumerate(parts):
                k = n + r
                took: dict[str, float] = {}
                for name, fn in steps[k % len(steps):] + steps[: k % len(steps)]:
                    t = now()
                    fn(chunk)
                    took[name] = now() - t
                    spent[name] += took[name]
                ratios.append(took["raw"] / took["ingest"])
                full_ratios.append(took["raw_full"] / took["ingest"])
                speedups.append(took["baseline"] / took["ingest"])
                done += len(chunk)
                log(f"ingest round {r + 1}/{rounds} chunk {n + 1}/{len(parts)}: " + ", ".join(
                    f"{k} {done / v:.0f}/s" for k, v in spent.items()) +
                    f"; this chunk raw/ingest {ratios[-1]:.0%}, raw_full/ingest "
                    f"{full_ratios[-1]:.0%}, "
                    f"sentence-transformers/ONNX {speedups[-1]:.2f}x")
            if len(services.indexes.get(team)) != len(texts):
                raise RuntimeError("the index does not hold every imported quote")
        res.ingest_n = len(texts)
        res.ingest_batch = batch
        res.ingest_chunk = size
        res.ingest_rounds = rounds
        res.raw_qps = done / spent["raw"]
        res.raw_full_qps = done / spent["raw_full"]
        res.ingest_full_ratio_median = statistics.median(full_ratios)
        res.ingest_qps = done / spent["ingest"]
        res.baseline_qps = done / spent["baseline"]
        res.ingest_ratio_median = statistics.median(ratios)
        res.ingest_speedup_median = statistics.median(speedups)
    finally:
        services.close()
        base.close()
        db.drop(url)
        db.drop(base_url)


def full_model(encoder: Encoder) -> Callable[[list[str]], None]:
    """The exported model's raw run with both outputs: the encoder and, on its hidden-states
    output, the emotion head's ONNX graph (``EmotionReader.run``), batched as the import
    batches them; nothing else (no text cues, calibration or database)."""
    from store.retrieval.embeddings import Tap

    reader = encoder.emotions
    run = getattr(reader, "run", None)
    if reader is None or run is None:
        raise RuntimeError("the ONNX embedder has no emotion head in ONNX Runtime")
    layer = reader.head.layer  # type: ignore[attr-defined]
    embedder = encoder.embedder

    def encode(chunk: list[str]) -> None:
        embedder.encode(chunk, tap=Tap(layer, lambda rows, states, mask: run(states, mask)))  # type: ignore[call-arg]
    return encode


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
