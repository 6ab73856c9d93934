"""Where an import's time goes beyond the model, and a digest of what it stored.

``python bench/ingest_profile.py [--backend sqlite|postgresql] [--n 3000] [--batch 512]``
imports the first N benchmark texts (the ones ``bench/perf.py --ingest N`` imports) with
the ONNX embedder at its default threads into a fresh database under cProfile, twice into
two teams (the second team's import finds the first team's quotes in the database, as a
second round of the ingest bench does), and prints:

* the seconds and share of the parts: ONNX Runtime's runs and the tokenizer (the raw run
  pays both), the cue regexes, the dedupe look-ups, the rest;
* the storing's time (each batch stored beside the next one's encode, the last one after
  it on the importing thread: the INSERT and the near-duplicate links), profiled on its own;
* a SHA-256 digest of the stored rows (text, attribution, vector bytes, emotion, voice
  link), so that a change to the import path can be shown to store the same thing.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.perf.common import DEFAULT_DATA, TEAM  # noqa: E402
from bench.perf.corpus import load_corpus  # noqa: E402
from bench.perf.databases import BenchDatabases  # noqa: E402

#: (part, functions whose cumulative time is that part's), by file suffix and function name
PARTS = (
    ("ONNX Runtime runs (raw run too)", (("onnxruntime_pybind11_state", "run"),)),
    ("tokenizer (raw run too)", (("onnx_embedder.py", "_tokenize"),)),
    ("cue regexes", (("cues.py", "cues"),)),
    ("near-duplicate links", (("vectors.py", "link_voices"),)),
    ("INSERT", (("new_quotes.py", "add_many"),)),
    ("dedupe look-ups", (("imports.py", "_pair"),)),
)


def _cum(stats: pstats.Stats, where: str, name: str) -> float:
    """Cumulative seconds of the matching functions, not counting calls among them."""
    total = 0.0
    raw = stats.stats  # type: ignore[attr-defined]  # pstats keeps its table there
    for (path, _line, func), (_cc, _nc, _tt, ct, callers) in raw.items():
        if func == name and where in path or path == "~" and where in func and name in func:
            # leave out the part of ct reached through a caller that is itself counted
            inner = sum(v[3] for k, v in callers.items() if k[2] == name and where in k[0])
            total += ct - inner
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    ap.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-profile", action="store_true", help="digest only")
    args = ap.parse_args()

    from sqlalchemy import text

    from bot.config import Settings
    from bot.container import build_services, make_embedder
    from store.queries.quotes import NewQuote

    texts = load_corpus(args.data).texts[: args.n]
    embedder = make_embedder(Settings())
    dbs = BenchDatabases(None if args.backend == "sqlite" else args.postgres_url)
    url = dbs.fresh("prof")
    services = build_services(Settings(database_url=url), embedder=embedder)
    try:
        embedder.encode(texts[:16])
        prof = cProfile.Profile()
        store_prof = cProfile.Profile()  # the storing thread's (Importer._add_all)
        if not args.no_profile:
            store = services.imports._store

            def profiled_store(*a: object, **k: object) -> int:
                # the last batch is stored on the importing thread: counted here, not there
                here = threading.current_thread() is threading.main_thread()
                if here:
                    prof.disable()
                store_prof.enable()
                try:
                    return store(*a, **k)  # type: ignore[arg-type]
                finally:
                    store_prof.disable()
                    if here:
                        prof.enable()

            services.imports._store = profiled_store  # type: ignore[method-assign]
        load = os.getloadavg()
        took = 0.0
        for r in range(args.rounds):
            items = [(i, NewQuote(team_id=f"{TEAM}{r}", text=t, speaker_name=f"Customer {i % 97}",
                                  company=f"Company {i % 31}", segment="smb"))
                     for i, t in enumerate(texts, 1)]
            t0 = time.perf_counter()
            if not args.no_profile:
                prof.enable()
            services.imports.import_quotes(items, batch_size=args.batch)
            if not args.no_profile:
                prof.disable()
            took += time.perf_counter() - t0
        digest = hashlib.sha256()
        with services.engine.connect() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(text(
                "SELECT id, team_id, text, speaker_name, company, segment, embedding, "
                "embedding_model, emotion, emotion_confidence, emotion_model, voice_id "
                "FROM quotes ORDER BY id")).all()
        for row in rows:
            digest.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v
                                     for v in row)).encode())
        linked = sum(1 for row in rows if row[-1] is not None)
        print(f"{args.backend}: {len(rows)} rows, {linked} linked as near-duplicates, "
              f"digest {digest.hexdigest()[:16]}")
        print(f"import {took:.2f} s (load before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
              f"after {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
        if not args.no_profile:
            stats = pstats.Stats(prof)
            total = stats.total_tt  # type: ignore[attr-defined]
            rest = total
            for label, funcs in PARTS:
                s = sum(_cum(stats, w, n) for w, n in funcs)
                rest -= s
                print(f"  {label:34s} {s:6.2f} s {s / total:6.1%}")
            print(f"  {'other Python':34s} {rest:6.2f} s {rest / total:6.1%}")
            print(f"  {'total (profiled)':34s} {total:6.2f} s")
            model = sum(_cum(stats, w, n) for _, funcs in PARTS[:2] for w, n in funcs)
            print(f"  beyond the model: {1 - model / total:.1%}")
            # each batch is stored beside the next batch's encode; the last batch after it
            kept = pstats.Stats(store_prof)
            spent = kept.total_tt  # type: ignore[attr-defined]
            print(f"storing (Importer._store, beside the encode but the last): {spent:.2f} s "
                  f"= {spent / took:.1%} of the import's wall time")
            for label, funcs in PARTS[3:5]:
                s = sum(_cum(kept, w, n) for w, n in funcs)
                print(f"  {label:34s} {s:6.2f} s {s / spent:6.1%} of it")
            if os.environ.get("PROFILE_TOP"):
                stats.sort_stats("tottime").print_stats(int(os.environ["PROFILE_TOP"]))
                stats.print_callees("link_voices")
    finally:
        services.close()
        dbs.drop(url)
        dbs.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
