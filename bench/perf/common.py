"""What every benchmark module shares: constants, the clock, percentiles, memory, logging."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Quiet the model loader's progress bars; set before torch/transformers are imported.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data"
PERF_MD = REPO / "bench" / "PERF.md"
TEAM = "TBENCH"
#: the channel the searches answer in, as /voice does (every 100th stored quote is private to
#: another channel, so the look-up of what this channel may not see has rows to find)
CHANNEL = "CBENCH"
K_RAW = 20  # SearchService asks the index for max(4 * (offset + limit), 20) = 20 with limit 5

TARGET_INGEST_RATIO = 0.90  # of the ONNX model's raw bulk encode
TARGET_INGEST_SPEEDUP = 1.8  # x the sentence-transformers import (before ONNX)
TARGET_SEARCH_P95_MS = {"SQLite": 20.0, "PostgreSQL": 30.0}
TARGET_READY_S = 3.0
TARGET_READY_RSS_MB = 450.0
TARGET_TOPIC_MS = 4.0  # median, one thread
TARGET_HTTP_RATIO = 2.0  # /voice p95 over the in-process floor's p95, at HTTP_QUOTES
HTTP_QUOTES = 10_000
TARGET_SIZE = 100_000
#: `voicebot serve` encodes with ``settings.torch_threads or 1`` threads
#: (bot/cli/admin.py:cmd_serve); search latency and the ready probe are measured so.
SERVE_TORCH_THREADS = 1


def now() -> float:
    return time.perf_counter()


def pct(values: Sequence[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), p))


@dataclass
class Latency:
    median_ms: float
    p95_ms: float
    n: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = [s * 1000 for s in seconds]
        return cls(statistics.median(ms), pct(ms, 95), len(ms))


def _proc_status_mb(field: str) -> float | None:
    """A ``kB`` line of /proc/self/status in MiB (None where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def rss_now_mb() -> float:
    """This process's current RSS in MiB (0 where /proc is missing)."""
    return _proc_status_mb("VmRSS") or 0.0


def peak_rss_mb() -> float:
    """This process's peak RSS in MiB.

    Linux's ``ru_maxrss`` survives fork+exec, so a child started by a big parent reports at
    least the parent's size; ``VmHWM`` belongs to the process's own address space.
    """
    peak = _proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    scale = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / (1024 * 1024)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def human(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def import_batch_size() -> int:
    """import_quotes' default batch size (what `voicebot import` uses)."""
    import inspect

    from bot.core.imports import Importer

    default = inspect.signature(Importer.import_quotes).parameters["batch_size"].default
    return int(default) if isinstance(default, int) and default > 0 else 256


def cprofile_text(prof, lines: int) -> str:  # type: ignore[no-untyped-def]
    """A cProfile.Profile's top ``lines`` functions by cumulative time."""
    import io
    import pstats

    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(lines)
    return out.getvalue()
