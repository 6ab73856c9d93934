"""A thread pool with a bound on the work waiting for it.

``ThreadPoolExecutor`` queues without limit: a server that falls behind (a flood, a slow
machine) keeps every queued request's objects, about 1.5 KiB each (bench/LOAD.md, section
5), until memory runs out. :class:`BoundedPool` counts what it was given and has not
finished; past ``limit`` it refuses new work (``submit`` returns False) and the caller says
so: "busy, try again" for a search, the durable capture backlog for a capture
(:mod:`bot.core.capture_backlog`), so that nothing a person asked to keep is lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class BoundedPool:
    """``workers`` threads; at most ``limit`` tasks queued or running at once."""

    def __init__(self, workers: int, limit: int, name: str) -> None:
        if limit < 1:
            raise ValueError("a pool must take at least one task")
        self.limit, self.name = limit, name
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._pending = 0
        self._refused = 0

    @property
    def pending(self) -> int:
        """Tasks accepted and not finished (queued or running)."""
        with self._lock:
            return self._pending

    def room(self) -> int:
        """How many more tasks would be accepted now."""
        with self._lock:
            return max(0, self.limit - self._pending)

    def full(self) -> bool:
        return self.room() == 0

    def submit(self, work: Callable[..., object], *args: object) -> bool:
        """Queue ``work(*args)``; False (and nothing queued) when ``limit`` tasks are already
        waiting or running. Failures are logged with their traceback."""
        with self._lock:
            if self._pending >= self.limit:
                self._refused += 1
                refused = self._refused
                accepted = False
            else:
                self._pending += 1
                accepted = True
        if not accepted:
            if refused == 1 or refused % 100 == 0:  # one line per burst, not per request
                log.warning("work refused: pool full", extra={"pool": self.name,
                                                              "limit": self.limit,
                                                              "refused": refused})
            return False
        try:
            self._pool.submit(self._run, work, args)
        except RuntimeError:  # shut down
            self._done()
            return False
        return True

    def _run(self, work: Callable[..., object], args: tuple[object, ...]) -> None:
        try:
            work(*args)
        except Exception:  # noqa: BLE001 - logged with its traceback; Slack was acked
            log.exception("background work failed",
                          extra={"work": getattr(work, "__name__", "?"), "pool": self.name})
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
