"""Bounded load test: signed `/voice` and reaction requests at a fixed rate over HTTP.

Serves the real app (waitress, the bundled model) against the fake Slack Web API on
127.0.0.1, sends N requests at R per second (about 70% `/voice`, 30% capture reactions on
distinct messages), and reports: acknowledgement latency (every one must be < 3 s),
captures stored versus sent (none may be lost), and resident memory over time (flat).
Writes the figures to bench/LOAD.md.

    python bench/load.py [--requests 2000] [--rate 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from waitress import create_server  # noqa: E402

from bot.cli.main import DEMO_TEAM  # noqa: E402,F401
from bot.config import Settings  # noqa: E402
from bot.container import build_services  # noqa: E402
from bot.core.importing import parse_file  # noqa: E402
from bot.server import BotWSGI, start  # noqa: E402
from store.models import Quote  # noqa: E402
from tests.fakes import signing  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

SECRET = "load-signing-secret"
TOPICS = ["card not arrived", "exchange rate fees", "charged twice", "verify identity",
          "transfer pending", "cash withdrawal declined", "top up failed", "change pin",
          "refund not received", "lost card", "apple pay", "account frozen"]


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "LOAD.md")
    args = parser.parse_args()
    rng = random.Random(7)

    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as slack:
        url_db = args.database_url or f"sqlite:///{tmp}/load.db"
        settings = Settings(database_url=url_db, slack_bot_token="xoxb-test-token",
                            slack_signing_secret=SECRET, slack_api_url=slack.base_url,
                            digest_scheduler=False)
        services = build_services(settings)
        sample = parse_file(ROOT / "bot" / "data" / "demo_quotes.csv", team_id="T0001")
        services.imports.import_quotes(sample.rows)
        with services.sessions() as s:
            stored_before = int(s.scalar(select(func.count()).select_from(Quote)) or 0)
        slack.add_user("UCUST", "Casey Customer")
        wsgi = BotWSGI()
        started = start(settings, wsgi, services)
        server = create_server(wsgi, host="127.0.0.1", port=0, threads=32)
        threading.Thread(target=server.run, daemon=True).start()
        endpoint = f"http://127.0.0.1:{server.effective_port}/slack/events"

        texts = [r[1].text for r in sample.rows if hasattr(r[1], "text")]
        plan: list[str] = ["voice" if rng.random() < 0.7 else "react"
                           for _ in range(args.requests)]
        reactions = plan.count("react")
        messages = [slack.add_message("C1", f"{rng.choice(texts)} (load {i})", user="UCUST")
                    for i in range(reactions)]
        acks: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        memory: list[tuple[float, float]] = [(0.0, rss_mib())]
        stop = threading.Event()

        def sample_memory(t0: float) -> None:
            while not stop.wait(5):
                memory.append((time.perf_counter() - t0, rss_mib()))

        def send(kind: str, n: int) -> None:
            if kind == "voice":
                body = signing.slash_command(rng.choice(TOPICS),
                                             response_url=slack.new_response_url())
            else:
                body = signing.event_callback(signing.reaction_added(
                    "U1", "loudspeaker", "C1", messages[n]))
            resp = signing.post(endpoint, *body, SECRET, timeout=30)
            with lock:
                acks.append(resp.elapsed)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

        t0 = time.perf_counter()
        threading.Thread(target=sample_memory, args=(t0,), daemon=True).start()
        react_n = 0
        with ThreadPoolExecutor(64) as pool:
            for i, kind in enumerate(plan):
                due = t0 + i / args.rate
                if (delay := due - time.perf_counter()) > 0:
                    time.sleep(delay)
                pool.submit(send, kind, react_n if kind == "react" else 0)
                react_n += kind == "react"
        sent_in = time.perf_counter() - t0
        deadline = time.time() + 120
        while time.time() < deadline:
            with services.sessions() as s:
                stored = int(s.scalar(select(func.count()).select_from(Quote)) or 0)
            if stored - stored_before >= reactions:
                break
            time.sleep(0.5)
        voices = len(plan) - reactions
        while time.time() < deadline and len(slack.calls_to("response_url")) < voices:
            time.sleep(0.5)
        replies = len(slack.calls_to("response_url"))
        stop.set()
        memory.append((time.perf_counter() - t0, rss_mib()))
        started.stop()
        server.close()
        services.close()

    captured = stored - stored_before
    over = sum(a >= 3 for a in acks)
    first_min = [m for t, m in memory if t <= 60] or [memory[0][1]]
    last = memory[-1][1]
    rows = [
        ("Requests sent", f"{len(acks)} ({len(acks) - reactions} /voice, {reactions} "
                          f"reactions) in {sent_in:.0f} s at {args.rate:g}/s", "", ""),
        ("HTTP statuses", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
         "all 200", "PASS" if set(statuses) == {200} else "MISS"),
        ("Ack latency median / p95 / p99 / max",
         f"{statistics.median(acks) * 1000:.0f} / {pct(acks, 95) * 1000:.0f} / "
         f"{pct(acks, 99) * 1000:.0f} / {max(acks) * 1000:.0f} ms", "every ack < 3000 ms",
         "PASS" if over == 0 else f"MISS ({over} over)"),
        ("/voice replies posted / requests", f"{replies} / {len(acks) - reactions}",
         "every one answered", "PASS" if replies == len(acks) - reactions else "MISS"),
        ("Captures stored / sent", f"{captured} / {reactions}", "none lost",
         "PASS" if captured == reactions else "MISS"),
        ("Resident memory: after first minute (max) -> end",
         f"{max(first_min):.0f} -> {last:.0f} MiB", "flat (< +15%)",
         "PASS" if last <= max(first_min) * 1.15 else "MISS"),
        ("Peak RSS (ru_maxrss)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
                                 " MiB", "", ""),
    ]
    table = ["| Metric | Result | Target | Verdict |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    report = "\n".join([
        "# voicebot load test", "",
        f"- Command: `python bench/load.py --requests {args.requests} --rate {args.rate:g}`"
        + (" --database-url ..." if args.database_url else ""),
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; Python "
        f"{platform.python_version()}; database "
        f"{'PostgreSQL' if args.database_url and 'postgres' in args.database_url else 'SQLite'};"
        " the bundled all-MiniLM-L6-v2; 462 stored quotes",
        "- The app is served by waitress on 127.0.0.1 exactly as `voicebot serve` does; the "
        "Web API is the fake from tests/fakes. Memory is this process (server + load "
        "generator).", "", *table, "",
        "Memory samples (s, MiB): " + ", ".join(f"{t:.0f}:{m:.0f}" for t, m in memory), ""])
    args.report.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
