"""Load and soak test of `voicebot serve` as deployed, plus an unsigned/oversized flood.

Starts ``python -m bot serve`` as its own process (HTTP mode, the bundled model, a
temporary SQLite database seeded with the 462 demo quotes) against the fake Slack Web
API, which runs here, in the load generator's process. Only the server's resident memory
is measured (/proc/<pid>/status), so the fake's growing call log and the generator do not
blur a leak. Phases:

1. load: signed requests at a fixed rate (by default about 70% `/voice`, 30% capture
   reactions on distinct messages, each a new stored quote; see ``--reactions``) for
   ``--requests`` or ``--soak-minutes``; reports ack latency percentiles (every ack
   must be < 3 s), captures stored vs sent, replies posted, and the
   RSS slope after warm-up (least-squares fit of RSS over requests acknowledged, samples
   after the first 20%), in MiB per 1,000 requests (target < 1);
2. flood: ``--flood`` unauthenticated or oversized POSTs (unsigned with a 200 KB or a
   60 KB signature header, forged or stale signatures on 100 KB bodies, signed 2 MiB
   bodies); reports statuses, the server's RSS change (target < 20 MiB) and how much its
   log grew (target < 1 MiB).

Writes the figures to bench/LOAD.md (``--report``).

    python bench/load.py [--requests 2000] [--rate 20] [--soak-minutes N] [--flood 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import slack_stub as signing  # noqa: E402
from bench.slack_stub import StubSlack as FakeSlack  # noqa: E402

SECRET = "load-signing-secret-0123456789"
TOPICS = ["card not arrived", "exchange rate fees", "charged twice", "verify identity",
          "transfer pending", "cash withdrawal declined", "top up failed", "change pin",
          "refund not received", "lost card", "apple pay", "account frozen"]
DEMO = ROOT / "bot" / "data" / "demo_quotes.csv"


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` (VmRSS), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def slope_per_1000(samples: list[tuple[int, float]], skip: float = 0.2) -> float:
    """Least-squares slope of RSS (MiB) over requests acknowledged, per 1,000 requests,
    from the samples taken after the first ``skip`` of the requests (warm-up)."""
    if not samples:
        return 0.0
    cutoff = samples[-1][0] * skip
    points = [(n, m) for n, m in samples if n >= cutoff]
    if len(points) < 3:
        return 0.0
    mean_n = statistics.fmean(n for n, _ in points)
    mean_m = statistics.fmean(m for _, m in points)
    var = sum((n - mean_n) ** 2 for n, _ in points)
    if var == 0:
        return 0.0
    cov = sum((n - mean_n) * (m - mean_m) for n, m in points)
    return cov / var * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raw_post(port: int, headers: dict[str, str], body: bytes, send: int | None = None) -> int:
    """POST over a plain socket; sends at most ``send`` body bytes; the status (0: none)."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    data = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n").encode() + body[:send]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            try:
                sock.sendall(data)
            except OSError:  # answered and closed before everything was sent
                pass
            answer = sock.recv(64)
    except OSError:
        return 0
    return int(answer.split()[1]) if answer.startswith(b"HTTP/") and len(answer.split()) > 1 \
        else 0


def fake_payload(size: int) -> str:
    """An interactivity body that parses like Slack's, carrying ``size`` bytes of text."""
    return signing.block_actions("voice_share", "w" * size)[0]


def flood_request(i: int, port: int) -> int:
    """One of four kinds of unauthenticated or oversized request, in turn."""
    now = str(int(time.time()))
    form = {"Content-Type": signing.FORM}
    kind = i % 4
    if kind == 0:  # the reported attack: unsigned, a 200 KB signature header
        return raw_post(port, {**form, "X-Slack-Request-Timestamp": now,
                               "X-Slack-Signature": "v0=" + "a" * 200_000}, b"payload=x")
    if kind == 1:  # a 60 KB header (under the server's header limit) and a 100 KB body
        return raw_post(port, {**form, "X-Slack-Request-Timestamp": now,
                               "X-Slack-Signature": "v0=" + "b" * 60_000},
                        fake_payload(100_000).encode())
    if kind == 2:  # well-formed but forged or stale signatures on a 100 KB body
        body = fake_payload(100_000)
        ts = int(now) - (600 if i % 8 == 2 else 0)
        headers = signing.sign(body, "not-the-secret" if i % 8 == 6 else SECRET, ts)
        return raw_post(port, {**form, **headers}, body.encode())
    body = fake_payload(2 * 1024 * 1024)  # signed, 2 MiB: over the body limit
    return raw_post(port, {**form, **signing.sign(body, SECRET)}, body.encode())


PROBE_BOOT = ("import runpy; import bench.server_probe as probe; "
              "probe.start({path!r}, memray_seconds={memray}, python={python}); "
              "runpy.run_module('bot', run_name='__main__')")


def start_server(tmp: Path, slack: FakeSlack, log_path: Path, probe: Path | None = None,
                 memray: float = 0.0, python: bool = False) -> tuple[subprocess.Popen, str]:
    db = f"sqlite:///{tmp / 'load.db'}"
    env = {**os.environ, "DATABASE_URL": db, "SLACK_BOT_TOKEN": "xoxb-test-token",
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url,
           "VOICEBOT_DIGEST_SCHEDULER": "false", "PYTHONPATH": str(ROOT)}
    env.pop("SLACK_APP_TOKEN", None)
    subprocess.run([sys.executable, "-m", "bot", "import", str(DEMO), "--team", "T0001"],
                   env=env, cwd=tmp, check=True, capture_output=True)
    port = free_port()
    log = open(log_path, "wb")  # noqa: SIM115 - closed when the process ends
    boot = ["-c", PROBE_BOOT.format(path=str(probe), memray=memray, python=python)] \
        if probe else ["-m", "bot"]
    proc = subprocess.Popen([sys.executable, *boot, "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, cwd=tmp, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 900
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"voicebot serve exited:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return proc, url
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("voicebot serve never became ready")


def count_quotes(tmp: Path) -> int:
    import sqlite3

    with sqlite3.connect(tmp / "load.db") as conn:
        return int(conn.execute("SELECT count(*) FROM quotes").fetchone()[0])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:-1]))
    parser.add_argument("--requests", type=int, default=2000,
                        help="signed requests in the load phase (default 2000)")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--soak-minutes", type=float, default=0.0,
                        help="run the load phase for this long instead of --requests")
    parser.add_argument("--reactions", type=float, default=0.3,
                        help="share of capture reactions among load requests (default 0.3; "
                        "0 isolates growth that is not stored quotes)")
    parser.add_argument("--messages", type=int, default=0,
                        help="react to at most this many distinct messages, so later "
                        "captures are repeats that store nothing (default: all distinct)")
    parser.add_argument("--flood", type=int, default=2000,
                        help="unauthenticated/oversized requests afterwards (0: none)")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "LOAD.md")
    parser.add_argument("--max-queued", type=int, default=0,
                        help="hold the next request while more than this many earlier ones "
                        "still have work queued in the server (replies not posted, quotes "
                        "not stored): measures memory per request on a machine too busy "
                        "for --rate (default 0: send at --rate regardless)")
    parser.add_argument("--probe", type=Path, default=None,
                        help="load bench/server_probe.py into the server, writing its memory "
                        "readings (RSS split, mallinfo2, SQLite) to this file every 10 s")
    parser.add_argument("--probe-python", action="store_true",
                        help="with --probe: also trace Python allocations (tracemalloc) from "
                        "the warm-up on, to PROBE.tracemalloc.txt (slows the server)")
    parser.add_argument("--probe-memray", type=float, default=0.0, metavar="SECONDS",
                        help="with --probe: also record native allocations with memray for "
                        "this long after the warm-up (to PROBE.memray.bin)")
    args = parser.parse_args()
    rng = random.Random(7)
    total = int(args.soak_minutes * 60 * args.rate) if args.soak_minutes else args.requests
    texts = [line.split(",")[0] for line in DEMO.read_text().splitlines()[1:] if line]

    with tempfile.TemporaryDirectory() as tmp_name, FakeSlack() as slack:
        tmp = Path(tmp_name)
        log_path = tmp / "server.log"
        slack.add_user("UCUST", "Casey Customer")
        slack.add_channel("C1", "general")
        t_start = time.perf_counter()
        proc, url = start_server(tmp, slack, log_path, args.probe, args.probe_memray,
                                 args.probe_python)
        print(f"server pid {proc.pid} ready in {time.perf_counter() - t_start:.0f} s; "
              f"sending {total} requests at {args.rate:g}/s", flush=True)
        endpoint = url + "/slack/events"
        stored_before = count_quotes(tmp)
        plan = ["react" if rng.random() < args.reactions else "voice" for _ in range(total)]
        reactions = plan.count("react")
        distinct = min(reactions, args.messages or reactions)  # quotes the load can add
        messages = [slack.add_message("C1", f"{rng.choice(texts)} (load {i})", user="UCUST")
                    for i in range(distinct)]
        acks: list[float] = []
        busy: list[int] = []  # /voice answered "busy, try again" in the ack (queue full)
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        samples: list[tuple[int, float]] = [(0, rss_mib(proc.pid))]
        timeline: list[tuple[float, int, float]] = []
        stop = threading.Event()

        def sample_memory(t0: float) -> None:
            while not stop.wait(2):
                with lock:
                    done = len(acks)
                if args.probe and done >= total * 0.2:  # warm: trace allocations from now
                    Path(f"{args.probe}.trace").touch()
                mib = rss_mib(proc.pid)
                samples.append((done, mib))
                timeline.append((time.perf_counter() - t0, done, mib))

        def send(kind: str, n: int) -> None:
            if kind == "voice":
                body = signing.slash_command(rng.choice(TOPICS),
                                             response_url=slack.new_response_url())
            else:
                body = signing.event_callback(signing.reaction_added(
                    "U1", "loudspeaker", "C1", messages[n % len(messages)]))
            try:
                resp = signing.post(endpoint, *body, SECRET, timeout=30)
                status, elapsed = resp.status, resp.elapsed
            except OSError:
                status, elapsed, resp = 0, 30.0, None
            with lock:
                if resp is not None and "try again in a moment" in resp.text:
                    busy.append(1)
                acks.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

        t0 = time.perf_counter()
        sampler = threading.Thread(target=sample_memory, args=(t0,), daemon=True)
        sampler.start()
        react_n = 0
        queued_at_end = 0

        def queued(sent: int, reacts: int) -> int:
            """Requests sent whose work (a reply, a stored quote) is not done yet."""
            done = len(slack.calls_to("response_url")) + len(busy) + count_quotes(tmp) \
                - stored_before
            return sent - done - max(0, reacts - distinct)  # repeats store nothing

        with ThreadPoolExecutor(64) as pool:
            for i, kind in enumerate(plan):
                due = t0 + i / args.rate
                if (delay := due - time.perf_counter()) > 0:
                    time.sleep(delay)
                while args.max_queued and queued(i, react_n) > args.max_queued:
                    time.sleep(0.02)
                pool.submit(send, kind, react_n if kind == "react" else 0)
                react_n += kind == "react"
        sent_in = time.perf_counter() - t0
        queued_at_end = queued(len(plan), react_n)
        deadline = time.time() + 120
        while time.time() < deadline and count_quotes(tmp) - stored_before < distinct:
            time.sleep(0.5)
        voices = total - reactions
        while time.time() < deadline and \
                len(slack.calls_to("response_url")) + len(busy) < voices:
            time.sleep(0.5)
        stop.set()
        sampler.join()
        captured = count_quotes(tmp) - stored_before
        replies = len(slack.calls_to("response_url"))
        slope = slope_per_1000(samples)

        flood_status: dict[int, int] = {}
        time.sleep(2)
        rss_before_flood, log_before = rss_mib(proc.pid), log_path.stat().st_size
        if args.flood:
            print(f"flood: {args.flood} unauthenticated/oversized requests", flush=True)
            with ThreadPoolExecutor(16) as pool:
                for status in pool.map(lambda i: flood_request(i, int(url.rsplit(":", 1)[1])),
                                       range(args.flood)):
                    flood_status[status] = flood_status.get(status, 0) + 1
            time.sleep(2)
        rss_after_flood, log_after = rss_mib(proc.pid), log_path.stat().st_size
        alive = proc.poll() is None
        proc.terminate()
        proc.wait(timeout=60)

    over = sum(a >= 3 for a in acks)
    flood_mib = rss_after_flood - rss_before_flood
    flood_log = log_after - log_before
    first, last = samples[0][1], samples[-1][1]
    rows = [
        ("Requests sent", f"{len(acks)} ({voices} /voice, {reactions} reactions) in "
                          f"{sent_in:.0f} s at {args.rate:g}/s", "", ""),
        ("HTTP statuses", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
         "all 200", "PASS" if set(statuses) == {200} else "MISS"),
        ("Ack latency median / p95 / p99 / max",
         f"{statistics.median(acks) * 1000:.0f} / {pct(acks, 95) * 1000:.0f} / "
         f"{pct(acks, 99) * 1000:.0f} / {max(acks) * 1000:.0f} ms", "every ack < 3000 ms",
         "PASS" if over == 0 else f"MISS ({over} over)"),
        ("/voice replies posted (+ answered busy in the ack) / requests",
         f"{replies} (+ {len(busy)}) / {voices}", "every one answered",
         "PASS" if replies + len(busy) == voices else "MISS"),
        ("Captures stored / distinct messages reacted to", f"{captured} / {distinct}",
         "none lost", "PASS" if captured == distinct else "MISS"),
        ("Work still queued in the server when the last request was sent (replies not "
         "posted, quotes not stored)", f"{queued_at_end}"
         + (f" (requests held while more than {args.max_queued} were queued)"
            if args.max_queued else ""),
         "0: the server keeps up, so RSS growth is not a backlog", ""),
        ("Server RSS: start -> end of load", f"{first:.0f} -> {last:.0f} MiB", "", ""),
        ("Server RSS slope after warm-up (least squares, samples after the first 20%)",
         f"{slope:+.2f} MiB per 1,000 requests", "< 1 MiB per 1,000",
         "PASS" if slope < 1 else "MISS"),
        (f"Flood: {args.flood} unsigned/oversized requests, statuses",
         ", ".join(f"{k or 'cut off'}: {v}" for k, v in sorted(flood_status.items())) or "-",
         "none 200", "PASS" if 200 not in flood_status else "MISS"),
        ("Flood: server RSS change", f"{rss_before_flood:.0f} -> {rss_after_flood:.0f} MiB "
         f"({flood_mib:+.1f})", "< 20 MiB", "PASS" if flood_mib < 20 else "MISS"),
        ("Flood: server log growth", f"{flood_log / 1024:.0f} KiB "
         f"({flood_log / max(args.flood, 1):.0f} bytes per request)", "< 1 MiB",
         "PASS" if flood_log < 1024 * 1024 else "MISS"),
        ("Server still serving after the flood", "yes" if alive else "no", "yes",
         "PASS" if alive else "MISS"),
    ]
    table = ["| Metric | Result | Target | Verdict |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    command = "python bench/load.py " + " ".join(sys.argv[1:])
    step = max(1, len(timeline) // 40)
    report = "\n".join([
        "# voicebot load and soak test", "",
        f"- Command: `{command.strip()}`",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; Python "
        f"{platform.python_version()}; {os.cpu_count()} CPUs; SQLite; the bundled "
        f"all-MiniLM-L6-v2; {stored_before} stored quotes",
        "- `python -m bot serve` runs as its own process (waitress, HTTP mode) against the "
        "stand-in Slack Web API of bench/slack_stub.py, which runs in the load generator's "
        "process. "
        "Memory is the server process only (VmRSS from /proc/<pid>/status).", "",
        *table, "",
        "Server memory over the load phase (s, requests acknowledged, MiB): "
        + ", ".join(f"{t:.0f}:{n}:{m:.0f}" for t, n, m in timeline[::step]), ""])
    args.report.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
