"""``python -m bench.perf``: run the benchmarks, print the table, update bench/PERF.md."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bench.perf import __doc__ as DOC
from bench.perf.common import (
    DEFAULT_DATA,
    HTTP_QUOTES,
    PERF_MD,
    REPO,
    SERVE_TORCH_THREADS,
    import_batch_size,
    log,
    peak_rss_mb,
)
from bench.perf.corpus import insert_rows, load_corpus, make_vectors
from bench.perf.databases import BenchDatabases
from bench.perf.encode import bench_topic_encode
from bench.perf.ingest import bench_ingest, profile_ingest
from bench.perf.ready import ready_probe, run_ready_probe
from bench.perf.report import Results, render, render_targets, write_markdown, write_targets
from bench.perf.search import bench_size


def parse_args(argv: Sequence[str] | None, prog: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=DOC.split("\n\n")[0],
                                epilog=DOC.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help=f"folder with banking77/ and clinc150/ (default {DEFAULT_DATA})")
    p.add_argument("--database-url", default=None,
                   help="measure only this database: sqlite:///new-file.db or a PostgreSQL "
                        "URL (benchmark databases are created beside it and dropped)")
    p.add_argument("--backends", default="sqlite,postgresql",
                   help="without --database-url: the backends of this run, in one process "
                        "(default sqlite,postgresql: a temp SQLite file and --postgres-url)")
    p.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                   help="the PostgreSQL server for --backends (only CREATE/DROP DATABASE "
                        "run on its own database)")
    p.add_argument("--sizes", default="1000,10000,100000",
                   help="stored quote counts for search latency (default 1000,10000,100000)")
    p.add_argument("--ingest", type=int, default=2000, help="quotes to ingest (default 2000)")
    p.add_argument("--ingest-batch", type=int, default=None,
                   help="import_quotes batch size (default: import_quotes' own default)")
    p.add_argument("--ingest-chunk", type=int, default=None,
                   help="texts per import_quotes call, the unit the four runs rotate on "
                        "(default: one batch, one import transaction per call; 0: all --ingest "
                        "texts in one call, as `voicebot import` imports a file, its batches "
                        "pipelined). The raw runs encode a batch at a time either way")
    p.add_argument("--ingest-rounds", type=int, default=2,
                   help="passes over the ingest texts, each into a new team (default 2)")
    p.add_argument("--queries", type=int, default=200,
                   help="single queries per latency measurement (default 200)")
    p.add_argument("--pool", type=int, default=5000,
                   help="real texts encoded for the stored corpus (default 5000)")
    p.add_argument("--noise", type=float, default=0.02,
                   help="per-dimension Gaussian noise for fanned-out vectors (default 0.02)")
    p.add_argument("--http-quotes", type=int, default=HTTP_QUOTES,
                   help=f"stored quotes for /voice over HTTP (default {HTTP_QUOTES:,})")
    p.add_argument("--ready-runs", type=int, default=3, help="ready probes (default 3)")
    p.add_argument("--profile", action="store_true",
                   help="also cProfile ingest, SearchService.search and start-up")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: sizes 1000,10000, 500 ingested, 50 queries, pool 1000")
    p.add_argument("--only", default="ingest,search,ready,http",
                   help="comma-separated parts to run (default ingest,search,ready,http); "
                        "ready needs search (it stores the corpus)")
    p.add_argument("--no-write", action="store_true", help="do not update bench/PERF.md")
    p.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    p.add_argument("--_ready-probe", dest="ready_probe", metavar="URL", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = "1000,10000" if args.sizes == "1000,10000,100000" else args.sizes
        args.ingest = min(args.ingest, 500)
        args.queries = min(args.queries, 50)
        args.pool = min(args.pool, 1000)
        args.ready_runs = 1
    try:
        args.size_list = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s})
    except ValueError:
        p.error(f"--sizes must be comma-separated whole numbers, got {args.sizes!r}")
    args.parts = {x.strip() for x in args.only.split(",") if x.strip()}
    if not args.parts <= {"ingest", "search", "ready", "http"}:
        p.error("--only takes ingest, search, ready, http")
    args.backend_list = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.backend_list or not set(args.backend_list) <= {"sqlite", "postgresql"}:
        p.error("--backends takes sqlite, postgresql")
    if not args.size_list or min(args.size_list) < 1 or args.ingest < 1 or args.queries < 1:
        p.error("sizes, --ingest and --queries must be positive")
    return args


def backend_urls(args: argparse.Namespace) -> list[str | None]:
    """The databases of this run: ``--database-url`` alone, else each of ``--backends``."""
    if args.database_url:
        return [args.database_url]
    urls: list[str | None] = []
    for name in args.backend_list:
        urls.append(None if name == "sqlite" else args.postgres_url)
    return urls


def main(argv: Sequence[str] | None = None, prog: str = "python -m bench.perf") -> int:
    args = parse_args(argv, prog)
    if args.ready_probe:  # kept for `bench/perf.py --_ready-probe URL` (bench/PERF.md)
        ready_probe(args.ready_probe, args.profile)
        return 0

    corpus = load_corpus(args.data)
    need = args.ingest + args.pool
    if len(corpus.texts) < need:
        raise SystemExit(f"bench.perf: {len(corpus.texts)} texts under {args.data}, "
                         f"need {need} (--ingest + --pool)")
    from sqlalchemy.engine import make_url

    def shown(a: str) -> str:
        return make_url(a).render_as_string(hide_password=True) if "://" in a else a

    cmd = " ".join([prog] + [shown(a) for a in (argv if argv is not None else sys.argv[1:])])
    started = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    log("loading the models")
    # Import the app (and so FAISS) before torch, as `voicebot serve` does: when torch's
    # libgomp is loaded first, FAISS binds to it and IndexRegistry's
    # faiss.omp_set_num_threads(1) also makes torch single-threaded.
    from bot.config import Settings
    from bot.container import make_embedder
    from store.retrieval.embeddings import SentenceTransformerEmbedder

    bulk = make_embedder(Settings())  # ONNX at its default threads, as `voicebot import`
    serve = make_embedder(Settings(torch_threads=SERVE_TORCH_THREADS))  # as `voicebot serve`
    baseline = SentenceTransformerEmbedder()  # today's torch path (custom models)
    baseline_1t = SentenceTransformerEmbedder(threads=SERVE_TORCH_THREADS)
    topic_onnx, topic_fp32, topic_torch = bench_topic_encode(serve, baseline_1t,
                                                             corpus.topics, args.queries)
    log(f"topic encode median: ONNX topic graph {topic_onnx.median_ms:.2f} ms, fp32 graph "
        f"{topic_fp32.median_ms:.2f} ms, torch {topic_torch.median_ms:.2f} ms (1 thread)")
    results = []
    for url in backend_urls(args):
        dbs = BenchDatabases(url, keep=args.keep)
        res = Results(backend=dbs.label, command=cmd, started=started,
                      load_before=os.getloadavg(), pool=args.pool, queries=args.queries)
        res.model = f"{serve.name} ({serve.dim}-d, ONNX Runtime)"
        res.topic_onnx, res.topic_fp32, res.topic_torch = topic_onnx, topic_fp32, topic_torch
        try:
            run_backend(args, corpus, dbs, res, bulk, serve, baseline)
        finally:
            dbs.close()
        finish(args, res)
        results.append(res)
    if not args.no_write:
        write_targets(render_targets(results, cmd, started))
    print(render_targets(results, cmd, started))
    return 0


def run_backend(args: argparse.Namespace, corpus, dbs: BenchDatabases, res: Results,  # type: ignore[no-untyped-def]
                bulk, serve, baseline) -> None:
    """Ingest, search latency, /voice over HTTP and start to ready on one backend."""
    log(f"backend {dbs.label}")
    ingest_texts = corpus.texts[: args.ingest]
    if "ingest" in args.parts:
        log(f"ingest: {len(ingest_texts)} texts, raw ONNX vs import_quotes (ONNX) vs "
            "import_quotes (sentence-transformers)")
        batch = args.ingest_batch or import_batch_size()
        bench_ingest(dbs, bulk, baseline, ingest_texts, batch, max(1, args.ingest_rounds), res,
                     per_call=batch if args.ingest_chunk is None else args.ingest_chunk)
        if args.profile:
            res.profile += "\n### cProfile: import_quotes of 256 quotes\n" + profile_ingest(
                dbs, bulk, corpus.texts[args.ingest + args.pool:][:256] or ingest_texts[:256])
    if "http" in args.parts:
        from bench.slack_http import load_texts, measure

        texts, labels = load_texts(args.data, args.http_quotes)
        url = dbs.fresh("http")
        log(f"/voice over HTTP at {len(texts):,} quotes")
        res.http = measure(url, texts, labels, args.queries, embedder=serve)
        dbs.drop(url)
    if not args.parts & {"search", "ready"}:
        return
    pool_texts = corpus.texts[args.ingest : args.ingest + args.pool]
    log(f"encoding a pool of {len(pool_texts)} real texts for the stored corpus")
    pool_vecs = bulk.encode(pool_texts)
    largest = args.size_list[-1]
    vecs = make_vectors(pool_vecs, largest, args.noise)
    qvecs = bulk.encode(corpus.topics)
    url = dbs.fresh("")
    from store import db as sdb

    sdb.upgrade(url)
    have = 0
    for size in args.size_list:
        spent = insert_rows(url, pool_texts, vecs, have, size, serve.name)
        log(f"stored {size - have:,} quotes in {spent:.1f} s (now {size:,})")
        have = size
        bench_size(url, size, serve, vecs, qvecs, corpus.topics, args.queries,
                   res, args.profile and size == largest, breakdown=size == largest)
        s = res.sizes[-1]
        log(f"@{size:,}: QuoteIndex p50 {s.index.median_ms:.2f} ms, FAISS p50 "
            f"{s.faiss.median_ms:.2f} ms, NumPy p50 "
            f"{s.numpy.median_ms:.2f} ms, service p50 {s.service.median_ms:.1f} / p95 "
            f"{s.service.p95_ms:.1f} ms")
    del vecs, pool_vecs
    res.ready_size = largest
    for n in range(args.ready_runs if "ready" in args.parts else 0):
        r = run_ready_probe(url, args.profile and n == 0)
        if "profile" in r:
            res.profile += f"\n### cProfile: build_services at {largest:,} quotes\n" + \
                r.pop("profile")
        res.ready.append(r)
        log(f"ready probe {n + 1}/{args.ready_runs}: {r['wall_s']:.2f} s "
            f"(model {r['model_load_s']:.2f} s, index {r['index_load_s']:.2f} s, "
            f"rss {r['rss_ready_mb']:.0f} MiB)")
    dbs.drop(url)


def finish(args: argparse.Namespace, res: Results) -> int:
    res.skipped = {"ingest", "search", "ready", "http"} - args.parts
    res.peak_rss_mb = peak_rss_mb()
    res.load_after = os.getloadavg()
    table, section = render(res)
    print(table)
    if res.profile and args.profile:
        print(res.profile)
    if not args.no_write:
        write_markdown(res, section)
        log(f"wrote {PERF_MD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
