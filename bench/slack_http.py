"""`/voice` end to end over HTTP: signed request in, response_url post out.

Serves the real app (waitress, bundled model on ONNX Runtime at one thread, as `voicebot
serve`, in its own process as deployed; ``--in-process`` serves it from the benchmark's
process instead) against a stand-in Slack Web API (bench/slack_stub.py), with N stored quotes (real
customer messages from Banking77 train, encoded by the model). Prints median/p95 latency of
sequential `/voice` requests beside the in-process floor on the same topics (encode the
topic + exact NumPy scan of the stored vectors), and the acknowledgement times of 20
concurrent ones. Targets: p95 <= 2x the floor's p95 at 10k quotes; all acks < 3 s.
`bench/perf.py` runs the same measurement (:func:`measure`) on SQLite and PostgreSQL.

    python bench/slack_http.py [--data ../shared/data] [--quotes 10000] [--requests 100]
        [--database-url URL-of-a-new-database] [--in-process]
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.slack_stub import StubSlack, post, slash_command  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.container import Services, build_services  # noqa: E402
from bot.server import serving  # noqa: E402
from store.queries.quotes import NewQuote  # noqa: E402

SECRET = "bench-signing-secret"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


TARGET_RATIO = 2.0


def load_texts(data: Path, n: int) -> tuple[list[str], list[str]]:
    """(``n`` Banking77 train messages, repeated with a suffix if needed; the label names)."""
    rows = list(csv.DictReader((data / "banking77" / "train.csv").open(encoding="utf-8")))
    labels = sorted({r["label"].replace("_", " ") for r in rows})
    texts = [r["text"] for r in rows]
    while len(texts) < n:
        texts += [f"{t} (again {len(texts)})" for t in texts[: n - len(texts)]]
    return texts[:n], labels


@dataclass
class Served:
    """The app served over HTTP against the stub Slack, with the stored vectors for the
    in-process floor. Built by :func:`serve_app`, shared by this script and
    bench/slack_http_stages.py so the two measure the same set-up."""

    slack: StubSlack
    settings: Settings
    services: Services  # this process's: the floor's model (and the app's, when in process)
    url: str
    matrix: Any  # the team's stored vectors, one row per quote (numpy)
    #: drains the app's SearchService.search times (ms) since the last call
    take_search_times: Callable[[], list[float]]

    def voice(self, topic: str,
              mark: Callable[[str], None] | None = None) -> tuple[float, float]:
        """One signed `/voice topic`: (seconds to the ack, seconds to the response_url
        post). ``mark`` is called with "send", "ack" and "hook" as they happen."""
        hook = self.slack.new_response_url()
        if mark:
            mark("send")
        began = time.perf_counter()
        resp = post(self.url, *slash_command(topic, response_url=hook), SECRET)
        ack = time.perf_counter() - began
        if mark:
            mark("ack")
        assert resp.status == 200, resp
        self.slack.wait_for_hook(hook)
        if mark:
            mark("hook")
        return ack, time.perf_counter() - began

    def floor(self, topic: str) -> float:
        """Seconds to encode ``topic`` as the search does (``encode_topic``: the bundled
        model's topic graph) and scan every stored vector exactly (top 20)."""
        import numpy as np

        from store.retrieval.embeddings import encode_topic

        began = time.perf_counter()
        q = encode_topic(self.services.embedder, topic)
        scores = self.matrix @ q
        top = np.argpartition(-scores, 19)[:20]
        top[np.argsort(-scores[top])]
        return time.perf_counter() - began

    def warm(self, topics: list[str]) -> None:
        """Warm caches and pools on ``topics``; forget the calls they made."""
        for topic in topics:
            self.voice(topic)
            self.floor(topic)
        self.slack.reset_calls()


class _SearchTimes:
    """Wraps ``services.search.search`` to record each call's milliseconds."""

    def __init__(self, services: Services) -> None:
        self.times: list[float] = []
        self._lock = threading.Lock()
        search = services.search.search

        def timed_search(*args: object, **kwargs: object) -> object:
            began = time.perf_counter()
            try:
                return search(*args, **kwargs)  # type: ignore[arg-type]
            finally:
                with self._lock:
                    self.times.append((time.perf_counter() - began) * 1000)

        services.search.search = timed_search  # type: ignore[method-assign,assignment]

    def take(self) -> list[float]:
        with self._lock:
            got, self.times = self.times, []
        return got


def _serve_child(settings: Settings, conn: Connection) -> None:
    """The app's own process (``process=True``): built and served as `voicebot serve` builds
    and serves it (capped malloc arenas, one BLAS thread, the bundled model at one thread,
    the index loaded from the stored vectors), over waitress on an ephemeral port. Sends
    the port, then answers ``"times"`` with the search times since the last ask, until
    ``"stop"``."""
    from bot.blas import limit_blas
    from bot.heap import limit_arenas

    limit_arenas(2)
    services = build_services(settings)
    times = _SearchTimes(services)
    limit_blas(1)
    try:
        with serving(settings, services, threads=32) as (server, _):
            conn.send(server.effective_port)
            while (ask := conn.recv()) != "stop":
                conn.send(times.take() if ask == "times" else None)
    finally:
        services.close()
        conn.close()


@contextmanager
def _app_process(settings: Settings) -> Iterator[tuple[int, Callable[[], list[float]]]]:
    """:func:`_serve_child` in a fresh (spawned) process: ``(its port, take_search_times)``."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=_serve_child, args=(settings, theirs), daemon=True)
    child.start()
    theirs.close()
    try:
        if not ours.poll(120):
            raise RuntimeError("the app's process did not start within 120 s")
        port = ours.recv()

        def take() -> list[float]:
            ours.send("times")
            got: list[float] = ours.recv()
            return got

        yield port, take
    finally:
        try:
            ours.send("stop")
        except OSError:
            pass
        child.join(30)
        if child.is_alive():
            child.kill()
        ours.close()


@contextmanager
def serve_app(database_url: str, texts: list[str], *, embedder: object | None = None,
              topic_precision: str = "int8",
              reuse: bool = False, process: bool = False,
              before_start: Callable[[Services], None] | None = None) -> Iterator[Served]:
    """Store ``texts`` (unless ``reuse`` and the database already holds quotes), start the
    app as `voicebot serve` does (waitress, the bundled model at one thread unless
    ``embedder`` is given) against a :class:`StubSlack`, and stop it all afterwards.

    ``process``: serve the app from its own process, as it runs in production (Slack and
    the app never share an interpreter): this process then sends the requests, runs the
    stub Slack and the floor, and no client or stub thread competes with the app's for one
    GIL. Otherwise the app runs in this process (``before_start`` may then wrap the
    services' functions before the app is built: bench/slack_http_stages.py)."""
    import numpy as np
    from sqlalchemy import func, select

    from bot.blas import limit_blas
    from store.models import Quote

    if process and before_start is not None:
        raise ValueError("before_start wraps this process's app: not with process=True")
    with StubSlack() as slack:
        settings = Settings(database_url=database_url,
                            slack_bot_token="xoxb-test-token", slack_signing_secret=SECRET,
                            slack_api_url=slack.base_url, torch_threads=1,  # as `serve`
                            topic_precision=topic_precision)
        services = build_services(settings, embedder=embedder)  # type: ignore[arg-type]
        with services.sessions() as session:
            have = session.scalar(select(func.count()).select_from(Quote)) if reuse else 0
        if not have:
            t0 = time.perf_counter()
            services.imports.import_quotes(
                ((i, NewQuote(team_id="T0001", text=t, speaker_name=f"Customer {i % 900}",
                              company=f"Company {i % 300}")) for i, t in enumerate(texts)),
                batch_size=512)
            print(f"stored {len(texts)} quotes in {time.perf_counter() - t0:.1f} s",
                  flush=True)
        with services.sessions() as session:
            ids = list(session.scalars(select(Quote.id).where(Quote.team_id == "T0001")))
        matrix = np.ascontiguousarray(np.vstack(services.indexes.get("T0001").vectors(ids)))
        limit_blas(1)  # as `voicebot serve` (bot/server.py), after the import above
        try:
            if process:
                with _app_process(settings) as (port, take):
                    yield Served(slack, settings, services,
                                 f"http://127.0.0.1:{port}/slack/events", matrix, take)
                return
            times = _SearchTimes(services)
            if before_start is not None:
                before_start(services)
            with serving(settings, services, threads=32) as (server, _):
                yield Served(slack, settings, services,
                             f"http://127.0.0.1:{server.effective_port}/slack/events", matrix,
                             times.take)
        finally:
            services.close()


def measure(database_url: str, texts: list[str], labels: list[str], requests: int,
            embedder: object | None = None, process: bool = True) -> dict:  # type: ignore[type-arg]
    """Store ``texts``, serve the app over HTTP and time ``requests`` sequential `/voice`
    requests, the in-process floor on the same topics, and 20 concurrent ones.
    ``embedder``: the model already loaded for the import and the floor (else the one
    `serve` builds, at one thread). ``process``: the app in its own process, as deployed
    (:func:`serve_app`); False serves it from this process, beside the client and the stub."""
    with serve_app(database_url, texts, embedder=embedder, process=process) as app:
        app.warm(labels[:5])
        app.take_search_times()
        full, base, inner = [], [], []
        for i in range(requests):  # alternate, so machine noise hits both alike
            topic = labels[i % len(labels)]
            full.append(app.voice(topic)[1] * 1000)
            searched = app.take_search_times()
            inner.append(searched[0] if searched else float("nan"))
            base.append(app.floor(topic) * 1000)
        app.slack.reset_calls()
        with ThreadPoolExecutor(20) as pool:
            burst = list(pool.map(app.voice, labels[:20]))
        acks = [a * 1000 for a, _ in burst]
    return {
        "quotes": len(texts), "requests": requests,
        "app": "own process" if process else "the benchmark's process",
        "voice_end_to_end_ms": {"median": round(statistics.median(full), 1),
                                "p95": round(pct(full, 95), 1), "max": round(max(full), 1)},
        "floor_ms": {"median": round(statistics.median(base), 2),
                     "p95": round(pct(base, 95), 2)},
        "p95_over_floor": round(pct(full, 95) / pct(base, 95), 2),
        # where the time goes: the search itself, and everything else (signature check,
        # receipts, Bolt, hand-offs, reply building, the response_url post), per request
        "search_in_app_ms": {"median": round(statistics.median(inner), 1),
                             "p95": round(pct(inner, 95), 1)},
        "outside_search_ms": {"median": round(statistics.median(
            [f - s for f, s in zip(full, inner)]), 1),
            "p95": round(pct([f - s for f, s in zip(full, inner)], 95), 1)},
        # the ratio a search costing no more than the floor would reach: each request's time
        # outside the search, plus the floor
        "floor_plus_outside_over_floor": round(pct(
            [f - s + b for f, s, b in zip(full, inner, base)], 95) / pct(base, 95), 2),
        "concurrent_20_ack_ms": {"median": round(statistics.median(acks), 1),
                                 "max": round(max(acks), 1)},
        "concurrent_20_reply_ms_max": round(max(b for _, b in burst) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--quotes", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default=None,
                        help="a new, empty database (default: a temporary SQLite file)")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "SLACK_HTTP.md")
    parser.add_argument("--in-process", action="store_true",
                        help="serve the app from this process, beside the client and the "
                             "stub Slack (sharing one GIL), instead of its own process")
    args = parser.parse_args()
    train = args.data / "banking77" / "train.csv"
    if not train.exists():
        print(f"error: {train} not found; pass --data DIR holding banking77/", file=sys.stderr)
        return 1
    texts, labels = load_texts(args.data, args.quotes)
    with tempfile.TemporaryDirectory() as tmp:
        report = measure(args.database_url or f"sqlite:///{tmp}/bench.db", texts, labels,
                         args.requests, process=not args.in_process)
    print(json.dumps(report, indent=2))
    acks_max = report["concurrent_20_ack_ms"]["max"]
    e2e, fl = report["voice_end_to_end_ms"], report["floor_ms"]
    p95_ok = report["p95_over_floor"] <= TARGET_RATIO
    ack_ok = acks_max < 3000
    print(f"/voice p95 {e2e['p95']} ms = {report['p95_over_floor']}x the floor's p95 "
          f"{fl['p95']} ms (target <= {TARGET_RATIO}x): {'PASS' if p95_ok else 'MISS'}")
    print(f"20 concurrent acks, slowest {acks_max:.0f} ms (target < 3000): "
          f"{'PASS' if ack_ok else 'MISS'}")
    backend = "PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite"
    args.report.write_text("\n".join([
        "# /voice over HTTP", "",
        f"- Command: `python bench/slack_http.py --quotes {args.quotes} --requests "
        f"{args.requests}" + (" --in-process" if args.in_process else "") + "`"
        + (" --database-url ..." if args.database_url else ""),
        f"- Date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {len(texts)} stored "
        f"quotes (Banking77 train messages) in {backend}; the bundled model on ONNX Runtime "
        "at one thread, as `voicebot serve`; waitress on 127.0.0.1, "
        + ("in the benchmark's process" if args.in_process else
           "in its own process, as deployed (the client, the stub and the floor run in the "
           "benchmark's)")
        + "; the stand-in Slack Web API of bench/slack_stub.py",
        "- Measured from sending the signed slash command to the bot's post arriving at the "
        "response_url; the floor is, in process on the same topics, encoding the topic and "
        "an exact NumPy scan of the stored vectors", "",
        "| Metric | Result | Target | Verdict |", "|---|---|---|---|",
        f"| /voice end to end, {args.requests} sequential | median {e2e['median']} ms, p95 "
        f"{e2e['p95']} ms, max {e2e['max']} ms | | |",
        f"| In-process floor (encode + exact scan) | median {fl['median']} ms, p95 "
        f"{fl['p95']} ms | | |",
        f"| of which SearchService.search, in the app | median "
        f"{report['search_in_app_ms']['median']} ms, p95 {report['search_in_app_ms']['p95']} "
        "ms | | |",
        f"| of which outside the search (HTTP, signature, receipts, Bolt, hand-offs, reply, "
        f"response_url post) | median {report['outside_search_ms']['median']} ms, p95 "
        f"{report['outside_search_ms']['p95']} ms | | |",
        f"| /voice p95 / floor p95 | {report['p95_over_floor']}x | <= {TARGET_RATIO}x | "
        f"{'PASS' if p95_ok else 'MISS'} |",
        "| the same ratio if the search cost only the floor (each request's time outside "
        f"the search + its floor, p95 / floor p95) | {report['floor_plus_outside_over_floor']}x"
        " | | |",
        f"| 20 concurrent /voice: acknowledgement | median "
        f"{report['concurrent_20_ack_ms']['median']} ms, slowest {acks_max:.0f} ms | "
        f"all < 3000 ms | {'PASS' if ack_ok else 'MISS'} |",
        f"| 20 concurrent /voice: last reply posted | "
        f"{report['concurrent_20_reply_ms_max']} ms | | |", ""]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
