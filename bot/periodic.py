"""A named daemon thread that runs one job every few seconds until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)


class Periodic:
    """Run ``job`` every ``interval`` seconds (first run at once when ``eager``).

    A failing run is logged and the next one retries; an unreachable database is a warning,
    not a traceback, because it is expected while the database restarts.
    """

    def __init__(self, name: str, job: Callable[[], object], interval: float, *,
                 eager: bool = False) -> None:
        self.name, self.job, self.interval, self.eager = name, job, interval, eager
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"voicebot-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        if not self.eager and self._stop.wait(self.interval):
            return
        while True:
            try:
                self.job()
            except OperationalError as exc:
                log.warning("%s skipped: database unavailable", self.name,
                            extra={"error": str(exc.orig).splitlines()[0] if exc.orig else ""})
            except Exception:  # noqa: BLE001 - logged; the next run tries again
                log.exception("%s failed", self.name)
            if self._stop.wait(self.interval):
                return
