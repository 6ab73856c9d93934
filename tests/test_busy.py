"""A server that falls behind says "busy" and keeps its queues bounded; no capture is lost.

A hostile flood over HTTP, with the search and capture workers held (as on a machine that
cannot keep up): /voice past the search pool's limit is answered "busy, try again" at once,
captures past the work pool's limit wait in the database (``deferred_captures``), and once
the workers free up every capture is stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.capture_backlog import CaptureBacklog, Deferred
from bot.slack import answers
from bot.slack.listeners import runtime
from store.models import DeferredCapture, Quote
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import Bot, serve_bot

LIMIT = 5


@pytest.fixture
def small_bot(tmp_path, monkeypatch) -> Iterator[Bot]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(answers, "MAX_QUEUED_SEARCHES", LIMIT)
    monkeypatch.setattr(runtime, "MAX_QUEUED_WORK", LIMIT)
    with FakeSlack() as slack:
        slack.add_user("U1", "Ana Teammate")
        slack.add_user("UCUST", "Casey Customer", team_id="T0001")
        slack.add_channel("C1", "general")
        with serve_bot(tmp_path, slack) as running:
            yield running


def hold(target: Any, name: str, gate: threading.Event) -> list[int]:
    """Make ``target.name`` wait for ``gate``; returns the list of calls started."""
    real = getattr(target, name)
    started: list[int] = []

    def held(*args: Any, **kwargs: Any) -> Any:
        started.append(1)
        gate.wait(60)
        return real(*args, **kwargs)

    setattr(target, name, held)
    return started


def wait_until(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)


def count(bot: Bot, model: Any) -> int:
    with bot.services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_voice_flood_past_the_search_limit_is_told_busy_at_once(small_bot: Bot) -> None:
    bot = small_bot
    gate = threading.Event()
    hold(bot.services.search, "search", gate)
    flood = LIMIT + 25
    with ThreadPoolExecutor(16) as pool:
        sent = list(pool.map(lambda _: bot.command("card not arrived"), range(flood)))
    try:
        assert all(resp.status == 200 for resp, _ in sent)
        busy_acks = [hook for resp, hook in sent if answers.BUSY in resp.text]
        queued = [hook for resp, hook in sent if answers.BUSY not in resp.text]
        # a race past the ack's check is refused by the pool and told through response_url

        def told_late() -> list[str]:
            return [h for h in queued if any(answers.BUSY in p.get("text", "")
                                             for p in bot.responses(h, timeout=0))]

        wait_until(lambda: len(busy_acks) + len(told_late()) >= flood - LIMIT)
        late_busy = told_late()
        assert len(busy_acks) + len(late_busy) == flood - LIMIT
        assert len(queued) - len(late_busy) == LIMIT  # the pool never held more
    finally:
        gate.set()
    searched = [h for h in queued if h not in late_busy]
    for hook in searched:  # every accepted search is answered once the workers are free
        (reply,) = bot.responses(hook)
        assert answers.BUSY not in reply["text"]
    # and the server takes searches again
    resp, hook = bot.command("card not arrived")
    assert answers.BUSY not in resp.text and bot.responses(hook)


def test_captures_past_the_work_limit_wait_in_the_database_and_none_is_lost(
        small_bot: Bot) -> None:
    bot = small_bot
    gate = threading.Event()
    started = hold(bot.services.capture, "save", gate)
    flood = LIMIT + 20
    messages = [bot.slack.add_message("C1", f"The export lost my data, attempt {n}",
                                      user="UCUST") for n in range(flood)]
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda ts: bot.event(signing.reaction_added(
            "U1", "loudspeaker", "C1", ts)).status, messages))
    try:
        assert statuses == [200] * flood
        wait_until(lambda: count(bot, DeferredCapture) >= flood - LIMIT)
        assert count(bot, DeferredCapture) == flood - LIMIT  # in the database, not memory
        assert len(started) <= LIMIT
    finally:
        gate.set()
    wait_until(lambda: count(bot, Quote) == flood)
    assert count(bot, Quote) == flood  # every capture stored
    assert count(bot, DeferredCapture) == 0
    saved = bot.slack.wait_for("chat.postEphemeral", count=flood, timeout=30)
    assert len(saved) == flood


def test_captures_deferred_before_a_restart_are_run_when_the_server_starts(tmp_path) -> None:
    with FakeSlack() as slack:
        slack.add_user("U1", "Ana Teammate")
        slack.add_user("UCUST", "Casey Customer", team_id="T0001")
        slack.add_channel("C1", "general")
        ts = slack.add_message("C1", "The export lost my data again", user="UCUST")
        with serve_bot(tmp_path, slack) as first:  # deferred, then the server stops
            CaptureBacklog(first.services.sessions).defer(Deferred("T0001", "C1", ts, "U1"))
            assert count(first, Quote) == 0
        with serve_bot(tmp_path, slack) as second:
            wait_until(lambda: count(second, Quote) == 1)
            assert count(second, Quote) == 1 and count(second, DeferredCapture) == 0
