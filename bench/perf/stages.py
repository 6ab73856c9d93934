"""SearchService stages, timed through the service's own ``timer`` seam (no patching).

:class:`StageClock` is a :data:`bot.core.search.Timer`: a fresh
``SearchService(..., timer=clock)`` calls it around each stage it runs, so a stage the
service adds or drops shows up here (and in tests/test_search_stages.py) by itself.
"""

from __future__ import annotations

import statistics
from types import TracebackType

from bench.perf.common import CHANNEL, SERVE_TORCH_THREADS, TEAM, now


class _Stage:
    __slots__ = ("clock", "name", "started")

    def __init__(self, clock: StageClock, name: str) -> None:
        self.clock, self.name = clock, name

    def __enter__(self) -> None:
        clock = self.clock
        clock.parent.setdefault(self.name, clock.open[-1] if clock.open else None)
        clock.open.append(self.name)
        self.started = now()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        took = now() - self.started
        clock = self.clock
        clock.open.pop()
        clock.spent[self.name] = clock.spent.get(self.name, 0.0) + took


class StageClock:
    """Seconds spent per stage name (summed over repeats), and which stage each ran inside."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.parent: dict[str, str | None] = {}  # first seen enclosing stage
        self.open: list[str] = []

    def __call__(self, stage: str) -> _Stage:
        return _Stage(self, stage)

    def clear(self) -> None:
        self.spent.clear()


def stage_breakdown(services, queries) -> tuple[dict[str, dict[str, float]], dict[str, str]]:  # type: ignore[no-untyped-def]
    """Median ms per SearchService.search stage, with the services' embedder as the server
    runs it (the ONNX model at one thread).

    Returns ``({mode: {stage: ms, ..., "total": ms, "other": ms}}, {nested stage: parent})``;
    ``other`` is the total minus the top-level stages (sessions, glue). Raises when a stage
    the service declares (``bot.core.search.TOPIC_STAGES``) never ran, except a nested one
    (``said_at`` runs only on near-ties).
    """
    from bot.core.search import NESTED, TOPIC_STAGES, SearchService

    clock = StageClock()
    search = SearchService(services.sessions, services.embedder, services.indexes, timer=clock)
    mode = f"as serve ({type(services.embedder).__name__}, {SERVE_TORCH_THREADS} thread)"
    rows: list[dict[str, float]] = []
    for qq in queries:
        clock.clear()
        t = now()
        search.search(TEAM, qq, limit=5, channel_id=CHANNEL)
        total = now() - t
        row = dict(clock.spent, total=total)
        row["other"] = total - sum(v for k, v in clock.spent.items()
                                   if clock.parent.get(k) is None)
        rows.append(row)
    missing = [s for s in TOPIC_STAGES if s not in clock.parent and s not in NESTED]
    if missing:
        raise RuntimeError(f"SearchService never timed {missing}: the stage timer lost them")
    order = [*TOPIC_STAGES, *(k for k in clock.parent if k not in TOPIC_STAGES)]
    keys = [k for k in order if k in clock.parent] + ["total", "other"]
    medians = {mode: {k: statistics.median(r.get(k, 0.0) for r in rows) * 1000 for k in keys}}
    return medians, {k: p for k, p in clock.parent.items() if p is not None}
