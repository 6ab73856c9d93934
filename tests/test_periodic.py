"""bot.periodic: the background loop behind replica sync and the digest scheduler."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy.exc import OperationalError

from bot.periodic import Periodic


def test_failures_are_logged_and_the_next_run_retries(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    third = threading.Event()

    def job() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise OperationalError("SELECT 1", {}, Exception("connection refused\nmore"))
        if len(runs) == 2:
            raise RuntimeError("boom")
        third.set()

    loop = Periodic("test job", job, 0.01, eager=True)
    with caplog.at_level(logging.WARNING, logger="bot.periodic"):
        loop.start()
        assert third.wait(5), "the loop stopped after a failing run"
        loop.stop()
        loop._thread.join(5)
    assert not loop._thread.is_alive()
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("WARNING", "test job skipped: database unavailable") in messages
    assert ("ERROR", "test job failed") in messages
    assert loop._thread.name == "voicebot-test job"


def test_lazy_loop_waits_one_interval_and_stops_before_running() -> None:
    ran = threading.Event()
    loop = Periodic("lazy", ran.set, 30.0)
    loop.start()
    loop.stop()
    loop._thread.join(5)
    assert not loop._thread.is_alive() and not ran.is_set()
