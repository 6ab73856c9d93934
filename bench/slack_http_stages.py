"""Where a `/voice` over HTTP spends its time: wall and thread-CPU time per segment of
sequential requests (send -> WSGI -> gate and receipts -> listener -> search -> reply ->
response_url post), timed by wrapping the app's own functions. A profiling aid beside
bench/slack_http.py, on the same set-up (its :func:`~bench.slack_http.serve_app`); reuses
the database if it already holds quotes (the 10k import takes minutes), so pass a file you
keep:

    python bench/slack_http_stages.py sqlite:////tmp/b10k.db 10000 40 [int8|fp32]

(the last argument: how topics are encoded, VOICEBOT_TOPIC_PRECISION; default int8)
"""
from __future__ import annotations

import functools
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from concurrent.futures import ThreadPoolExecutor

from slack_bolt.context.respond import respond as respond_mod

import bench.slack_http as sh
import bot.core.search as search_mod
import bot.core.usage as usage_mod
import bot.gate as gate_mod
import bot.server as server_mod
import bot.slack.answers as answers_mod
import bot.slack.dedupe as dedupe_mod
from bench.slack_stub import StubSlack

EV: list[tuple[str, float, float, float]] = []  # name, start, end, cpu
LOCK = threading.Lock()

def wrap(cls, name, label):
    orig = getattr(cls, name)
    @functools.wraps(orig)
    def w(*a, **k):
        t, c = time.perf_counter(), time.thread_time()
        try:
            return orig(*a, **k)
        finally:
            e, ce = time.perf_counter(), time.thread_time()
            with LOCK:
                EV.append((label, t, e, ce - c))
    setattr(cls, name, w)

def mark(label):
    with LOCK:
        EV.append((label, time.perf_counter(), time.perf_counter(), 0.0))

wrap(server_mod.BotWSGI, "__call__", "wsgi")
wrap(gate_mod.RequestGate, "admit", "gate")
# the gate claims both receipts at once (claim_request; claim goes through it)
wrap(dedupe_mod.Receipts, "claim_request" if hasattr(dedupe_mod.Receipts, "claim_request")
     else "claim", "claim")
wrap(answers_mod.Answers, "run", "listener_submit")
wrap(answers_mod.Answers, "_search_and_send", "sas")
wrap(search_mod.SearchService, "search", "search")
wrap(usage_mod.Usage, "record_use", "record_use")
wrap(usage_mod.Usage, "record_ask", "record_ask")
wrap(answers_mod.blocks, "search_reply", "blocks")
wrap(respond_mod.Respond, "__call__", "respond")
try:
    import bot.slack.responses as rmod
    wrap(rmod.ResponsePoster, "post", "respond")
except ImportError:
    pass
orig_record = StubSlack._record
def rec(self, call):
    mark("stub:" + call.method)
    orig_record(self, call)
StubSlack._record = rec  # type: ignore[method-assign]

url, quotes, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
precision = sys.argv[4] if len(sys.argv) > 4 else "int8"
texts, labels = sh.load_texts(sh.ROOT.parent / "shared" / "data", quotes)
LABELS = {"send": "client_send", "ack": "client_ack", "hook": "client_hook"}


def marked(step: str) -> None:
    mark(LABELS[step])


# the same set-up as bench/slack_http.py (serve_app), keeping the quotes already stored
with sh.serve_app(url, texts, reuse=True, topic_precision=precision) as app:
    app.warm(labels[:5])
    EV.clear()
    full, base = [], []
    for i in range(requests):
        t = labels[i % len(labels)]
        full.append(app.voice(t, marked)[1] * 1000)
        base.append(app.floor(t) * 1000)
    time.sleep(0.3)
    evs_all = sorted(EV, key=lambda e: e[1])
    with ThreadPoolExecutor(20) as pool:
        burst = list(pool.map(lambda t: app.voice(t, marked), labels[:20]))

acks = [a * 1000 for a, _ in burst]
print(json.dumps({
    "e2e_med": round(statistics.median(full), 1), "e2e_p95": round(sh.pct(full, 95), 1),
    "floor_med": round(statistics.median(base), 2), "floor_p95": round(sh.pct(base, 95), 2),
    "ratio": round(sh.pct(full, 95) / sh.pct(base, 95), 2),
    "ack20_med": round(statistics.median(acks), 1), "ack20_max": round(max(acks), 1)}))
sends = [e[1] for e in evs_all if e[0] == "client_send"]
rows = []
for k, s in enumerate(sends):
    end = sends[k + 1] if k + 1 < len(sends) else s + 10
    evs = [e for e in evs_all if s <= e[1] < end]

    def at(n, f=1, evs=evs):
        x = [e for e in evs if e[0] == n]
        return x[0][f] if x else float("nan")

    def cpu(n, evs=evs):
        return sum(e[3] for e in evs if e[0] == n) * 1000

    def dur(n, evs=evs):
        return sum(e[2] - e[1] for e in evs if e[0] == n) * 1000

    def ms(a, b):
        return (b - a) * 1000

    rows.append({
        "send->wsgi": ms(s, at("wsgi")),
        "wsgi->listener": ms(at("wsgi"), at("listener_submit")),
        "  gate(incl claim)": dur("gate"), "  claims x2": dur("claim"),
        "listener->search": ms(at("listener_submit"), at("search")),
        "search": dur("search"),
        "search->respond": ms(at("search", 2), at("respond")),
        "respond->hook": ms(at("respond"), at("stub:response_url")),
        "hook->client": ms(at("stub:response_url"), at("client_hook")),
        "TOTAL": ms(s, at("client_hook")),
        "ack (client)": ms(s, at("client_ack")),
        "cpu wsgi thread": cpu("wsgi"), "cpu gate": cpu("gate"), "cpu claims": cpu("claim"),
        "cpu search": cpu("search"), "cpu respond": cpu("respond"), "cpu blocks": cpu("blocks"),
        "cpu sas total": cpu("sas"), "rec_use+ask wall": dur("record_use") + dur("record_ask"),
    })
print(f"{'segment':22s}  median     p95")
for key in rows[0]:
    vals = [r[key] for r in rows if r[key] == r[key]]
    print(f"{key:22s} {statistics.median(vals):7.2f} {sh.pct(vals, 95):7.2f}")
