"""Where a running server's memory goes: a probe that ``bench/load.py --probe`` loads into
``voicebot serve`` (the server's own code is unchanged).

Every ``interval`` seconds it appends one JSON line to ``<path>``: resident memory split
into anonymous and file-backed (/proc/self/status), glibc's ``mallinfo2`` (bytes in use
from the heap arenas, in ``mmap``-ed chunks, and free but kept), SQLite's
``sqlite3_memory_used`` (and how much of it is page cache), the Python objects
``tracemalloc`` traces, the blocks Python's allocator holds, threads, open files and
stored quotes. With ``python`` (``load.py --probe-python``), once ``<path>.trace`` exists
(``load.py`` makes it after the warm-up) it also writes ``<path>.tracemalloc.txt``: the
Python allocation sites holding the most memory allocated since then. Reading the two
together tells Python objects, SQLite, live native allocations and allocator retention
apart.

    python -c "import bench.server_probe as p; p.start('/tmp/probe.jsonl'); ..." serve
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from typing import Any

_FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
           "uordblks", "fordblks", "keepcost")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _FIELDS]


def _libc() -> Any | None:
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name) if name else None
        if lib is not None:
            lib.mallinfo2.restype = _MallInfo2
        return lib
    except (OSError, AttributeError):
        return None


def _sqlite() -> Any | None:
    import sqlite3  # noqa: F401 - loads the same libsqlite3 the server uses

    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libsqlite3" in line}
    if not paths:
        return None
    lib = ctypes.CDLL(sorted(paths)[0])
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    lib.sqlite3_status64.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int64),
                                     ctypes.POINTER(ctypes.c_int64), ctypes.c_int]
    return lib


SQLITE_STATUS_PAGECACHE_OVERFLOW = 2  # page-cache bytes taken from malloc (all of them here)


def _sqlite_status(sqlite: Any, op: int) -> int:
    current, highest = ctypes.c_int64(), ctypes.c_int64()
    sqlite.sqlite3_status64(op, ctypes.byref(current), ctypes.byref(highest), 0)
    return current.value


def _status() -> dict[str, int]:
    out: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                out[key] = int(value.split()[0])
    return out


def reading(libc: Any | None, sqlite: Any | None) -> dict[str, Any]:
    """One reading of this process's memory, in KiB (counts as counts)."""
    row: dict[str, Any] = {"t": round(time.monotonic(), 1), **_status()}
    if libc is not None:
        info = libc.mallinfo2()
        row.update({f"m_{name}": getattr(info, name) // 1024 for name in
                    ("arena", "hblkhd", "uordblks", "fordblks", "keepcost")})
        row["m_hblks"] = info.hblks
    if sqlite is not None:
        row["sqlite"] = sqlite.sqlite3_memory_used() // 1024
        # the rest of sqlite3_memory_used: prepared statements, schemas, connections
        row["sqlite_pages"] = _sqlite_status(sqlite, SQLITE_STATUS_PAGECACHE_OVERFLOW) // 1024
    row["py_traced"] = tracemalloc.get_traced_memory()[0] // 1024
    row["tracemalloc_own"] = tracemalloc.get_tracemalloc_memory() // 1024
    row["py_blocks"] = sys.getallocatedblocks()  # not gc.get_objects(): unsafe from a thread
    row["gc2"] = gc.get_stats()[2]["collections"]
    row["fds"] = len(os.listdir("/proc/self/fd"))
    row["quotes"] = _quotes()
    return row


def _quotes() -> int | None:
    """Quotes stored so far, when the server's database is a SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("sqlite:///"):
        return None
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return int(conn.execute("SELECT count(*) FROM quotes").fetchone()[0])


def _memray(path: str, seconds: float) -> None:
    """Record with memray (native stacks, aggregated) for ``seconds`` on a thread of its own:
    what the file calls leaks is what was allocated in that window and not freed in it."""
    import memray

    def run() -> None:
        tracker = memray.Tracker(path, native_traces=True,
                                 file_format=memray.FileFormat.AGGREGATED_ALLOCATIONS)
        with tracker:
            time.sleep(seconds)

    threading.Thread(target=run, name="memory-probe-memray", daemon=True).start()


def start(path: str, *, interval: float = 10.0, snapshot_every: int = 6,
          memray_seconds: float = 0.0, python: bool = True) -> None:
    """Start the probe thread. With ``python``, ``tracemalloc`` starts (one frame per
    allocation) once the file ``<path>.trace`` exists, so that start-up is not slowed and
    only allocations made after the warm-up are traced; every ``snapshot_every`` readings
    after that, the sites holding the most of them go to ``<path>.tracemalloc.txt`` (by
    line, then by file). Without it the probe costs next to nothing (mallinfo2, SQLite,
    /proc), so its readings are the server's own."""
    libc, sqlite = _libc(), _sqlite()

    def run() -> None:
        ticks = 0
        while True:
            time.sleep(interval)
            with open(path, "a") as out:
                out.write(json.dumps(reading(libc, sqlite)) + "\n")
            if not python:
                continue
            if not tracemalloc.is_tracing():
                if os.path.exists(path + ".trace"):
                    tracemalloc.start(1)
                    if memray_seconds:
                        _memray(path + ".memray.bin", memray_seconds)
                continue
            ticks += 1
            if ticks % snapshot_every:
                continue
            snapshot = tracemalloc.take_snapshot()
            with open(path + ".tracemalloc.txt", "w") as out:
                out.write(f"{ticks * interval:.0f} s of tracing, quotes {_quotes()}\n")
                for kind in ("lineno", "filename"):
                    top = snapshot.statistics(kind)[:30]
                    out.write("\n".join(str(stat) for stat in top) + "\n\n")

    threading.Thread(target=run, name="memory-probe", daemon=True).start()
