"""Per stored quote, how much each part of the server's memory grew in a probed run.

Reads the JSON lines ``bench/server_probe.py`` wrote (``python bench/load.py --probe FILE``)
and fits, on the readings after the first ``--skip`` of the new quotes (warm-up), a
least-squares slope of every field over the quotes stored: bytes per new quote. With the
default mix (30% of requests store a new quote) x bytes per quote is 0.3 * x KiB per
1,000 requests, about x / 3,500 MiB.

    python bench/probe_slopes.py /tmp/probe.jsonl [--skip 0.2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

FIELDS = {
    "VmRSS": "resident memory",
    "RssAnon": "anonymous (heap, arenas, mmaps)",
    "RssFile": "file-backed (libraries, mapped files)",
    "m_uordblks": "malloc in use, arenas",
    "m_hblkhd": "malloc in use, mmapped chunks",
    "m_fordblks": "malloc free but kept",
    "m_arena": "malloc arena size",
    "sqlite": "sqlite3_memory_used",
    "sqlite_pages": "of which SQLite page caches",
    "py_traced": "tracemalloc (Python, since warm-up)",
    "py_blocks": "Python allocator blocks (count)",
    "Threads": "threads (count)",
    "fds": "open files (count)",
}
KIB = {"VmRSS", "RssAnon", "RssFile", "m_uordblks", "m_hblkhd", "m_fordblks", "m_arena",
       "sqlite", "sqlite_pages", "py_traced"}


def slope(points: list[tuple[float, float]]) -> float:
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("probe", type=Path)
    parser.add_argument("--skip", type=float, default=0.2,
                        help="share of the new quotes counted as warm-up (default 0.2)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.probe.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("quotes") is not None]
    first, last = rows[0]["quotes"], rows[-1]["quotes"]
    cutoff = first + (last - first) * args.skip
    window = [r for r in rows if r["quotes"] >= cutoff]
    if len(window) < 3 or window[-1]["quotes"] == window[0]["quotes"]:
        print("too few readings after the warm-up")
        return 1
    a, b = window[0], window[-1]
    print(f"{len(window)} readings, quotes {a['quotes']} -> {b['quotes']} "
          f"({b['quotes'] - a['quotes']} new), {b['t'] - a['t']:.0f} s")
    print(f"{'field':<14} {'first':>10} {'last':>10} {'per new quote':>14}  what")
    for field, what in FIELDS.items():
        if field not in a:
            continue
        per = slope([(r["quotes"], r[field]) for r in window if field in r])
        unit = f"{per * 1024:+.0f} B" if field in KIB else f"{per:+.3f}"
        print(f"{field:<14} {a[field]:>10} {b[field]:>10} {unit:>14}  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
