"""Start to ready: a fresh interpreter runs ``build_services`` as `voicebot serve` does.

The parent (:func:`run_ready_probe`) times spawn to the child's ``READY`` line; the child
(:func:`ready_probe`, ``python -m bench.perf.ready URL``) breaks its own time down by wrapping
the public functions ``build_services`` calls. Each wrapped function must exist and must have
run by the time the app is ready, or the probe fails: a refactor that moves one cannot make
its row read 0.00 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from bench.perf.common import REPO, SERVE_TORCH_THREADS, cprofile_text, now, peak_rss_mb, rss_now_mb


class Marks:
    """Seconds per phase, from wrapped callables; counts calls so a lost phase is loud."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, owner: Any, name: str, key: str, *, generator: bool = False) -> None:
        """Replace ``owner.name`` with a timed copy (for this probe process only)."""
        fn = getattr(owner, name)  # AttributeError here: the app moved it; update the probe
        self.spent.setdefault(key, 0.0)
        self.calls.setdefault(key, 0)
        setattr(owner, name, (self._timed_gen if generator else self._timed)(key, fn))

    def _timed(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            self.calls[key] += 1
            t = now()
            try:
                return fn(*a, **k)
            finally:
                self.spent[key] += now() - t
        return wrapper

    def _timed_gen(self, key: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Iterator[Any]:
            self.calls[key] += 1
            it = fn(*a, **k)
            while True:
                t = now()
                try:
                    item = next(it)
                except StopIteration:
                    self.spent[key] += now() - t
                    return
                self.spent[key] += now() - t
                yield item
        return wrapper

    def check(self) -> None:
        lost = [k for k, n in self.calls.items() if not n]
        if lost:
            raise RuntimeError(f"build_services never called the functions timed as {lost}; "
                               "bench/perf/ready.py wraps what it no longer uses")


def ready_probe(url: str, profile: bool) -> None:
    """Run in a fresh interpreter: time build_services() and print one JSON line."""
    t0 = now()
    import bot.container as container
    import bot.server as server
    import store.db as sdb
    import store.queries.quotes as squotes
    import store.queries.vector_copy as vector_copy
    from bot.config import Settings
    from bot.core.indexing import IndexLoader
    from store.retrieval.index import QuoteIndex

    t_import = now() - t0
    from bot.blas import limit_blas
    from bot.heap import limit_arenas

    limit_arenas(2)  # as `voicebot serve` does before any thread starts
    limit_blas(1)
    marks = Marks()
    heavy = _time_heavy_imports()
    marks.wrap(sdb, "upgrade", "migrate")
    marks.wrap(container, "make_embedder", "model_load")
    marks.wrap(IndexLoader, "load_indexes", "index_load")
    marks.wrap(squotes, "stored_vectors", "db_read", generator=True)  # SQLite
    marks.wrap(vector_copy, "groups", "db_read")  # PostgreSQL: counts, then one COPY
    marks.wrap(vector_copy, "copy_groups", "db_read", generator=True)
    marks.wrap(vector_copy, "other_rows", "db_read", generator=True)
    marks.wrap(QuoteIndex, "load", "index_fill")

    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t1 = now()
    services = container.build_services(
        Settings(database_url=url, torch_threads=SERVE_TORCH_THREADS))
    t_build = now() - t1
    t2 = now()
    server.warm(services)  # as `voicebot serve` (bot/server.py): pages in the weights, trims
    t_warm = now() - t2
    total = now() - t0
    if prof is not None:
        prof.disable()
        print(cprofile_text(prof, 40), file=sys.stderr)
    marks.check()
    quotes = services.indexes.total()
    rss_ready = rss_now_mb()
    services.close()
    print("READY " + json.dumps(dict(
        imports_s=t_import, build_s=t_build, warmup_s=t_warm, total_s=total, quotes=quotes,
        maxrss_mb=peak_rss_mb(), rss_ready_mb=rss_ready, st_import_s=heavy["st_import"],
        torch_imported=any(m.split(".")[0] in {"torch", "sentence_transformers"}
                           for m in sys.modules),
        **{f"{k}_s": v for k, v in marks.spent.items()})), flush=True)


def _time_heavy_imports() -> dict[str, float]:
    """Time the first (outermost) import of torch or sentence_transformers, wherever the app
    does it, without changing when it happens; the dict fills in as it happens."""
    import builtins
    import threading

    spent = {"st_import": 0.0}
    original = builtins.__import__
    heavy = {"torch", "sentence_transformers"}
    state = threading.local()

    def timed_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
        top = name.partition(".")[0]
        if level or top not in heavy or top in sys.modules or getattr(state, "busy", False):
            return original(name, globals, locals, fromlist, level)
        state.busy = True
        t = now()
        try:
            return original(name, globals, locals, fromlist, level)
        finally:
            spent["st_import"] += now() - t
            state.busy = False

    builtins.__import__ = timed_import
    return spent


def run_ready_probe(url: str, profile: bool) -> dict:  # type: ignore[type-arg]
    """Spawn a probe; its JSON result plus ``wall_s`` (spawn to ready) and interpreter start."""
    cmd = [sys.executable, "-m", "bench.perf.ready", url] + (["--profile"] if profile else [])
    t = now()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errfile:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile, text=True,
                                cwd=str(REPO))
        result = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY "):
                result = json.loads(line[6:])
                result["wall_s"] = now() - t
        proc.wait()
        errfile.seek(0)
        err = errfile.read()
    if proc.returncode != 0 or result is None:
        raise RuntimeError(f"ready probe failed ({proc.returncode}):\n{err[-3000:]}")
    result["python_startup_s"] = result["wall_s"] - result["total_s"]
    if profile:
        result["profile"] = err
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="one start-to-ready probe (bench/perf)")
    parser.add_argument("url", help="a database the benchmark filled")
    parser.add_argument("--profile", action="store_true", help="cProfile to stderr")
    args = parser.parse_args()
    ready_probe(args.url, args.profile)
