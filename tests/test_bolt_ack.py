"""The request thread wakes the moment a listener acks (bot/slack/bolt_compat.py), instead of
slack-bolt's 10 ms polling; pinned against the installed slack-bolt so an upgrade that
changes the runner is noticed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest
import slack_bolt.listener.thread_runner as thread_runner
from slack_bolt import App, BoltRequest
from slack_bolt.authorization import AuthorizeResult

from bot.slack.bolt_compat import ack_waiting_executor, install_ack_signal


class CountingTime:
    """Stands in for the ``time`` module slack-bolt's listener runner polls with."""

    def __init__(self) -> None:
        self.sleeps = 0
        self.polled = threading.Event()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.polled.set()
        time.sleep(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> CountingTime:
    counting = CountingTime()
    monkeypatch.setattr(thread_runner, "time", counting)
    return counting


def _authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test",
                           bot_user_id="UBOT", bot_id="BBOT")


def _app(executor: Any) -> App:
    """A Bolt app that needs no network: authorised locally, requests unsigned."""
    return App(signing_secret="s", authorize=_authorize, request_verification_enabled=False,
               listener_executor=executor)


def _command() -> BoltRequest:
    body = urlencode({"command": "/voice", "text": "billing", "team_id": "T1",
                      "user_id": "U1", "channel_id": "C1", "trigger_id": "t1",
                      "response_url": "https://hooks.slack.test/x"})
    return BoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"})


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_the_ack_wakes_the_request_thread_without_polling(
        clock: CountingTime, release: threading.Event) -> None:
    executor = ack_waiting_executor(2, "test-listener")
    app = _app(executor)
    install_ack_signal(app, executor)
    done = threading.Event()

    @app.command("/voice")
    def voice(ack: Any) -> None:
        time.sleep(0.05)  # parsing: long enough for a polling runner to poll
        ack(text="searching")
        release.wait(10)  # work after the ack holds the listener, not the response
        done.set()

    resp = app.dispatch(_command())
    assert (resp.status, resp.body) == (200, "searching")
    assert not done.is_set()  # answered while the listener still runs
    assert clock.sleeps == 0
    release.set()
    assert done.wait(10)
    executor.shutdown()


def test_a_listener_that_fails_before_its_ack_still_answers_at_once(
        clock: CountingTime) -> None:
    executor = ack_waiting_executor(2, "test-listener")
    app = _app(executor)
    install_ack_signal(app, executor)

    @app.command("/voice")
    def voice(ack: Any) -> None:
        raise KeyError("broken payload")

    resp = app.dispatch(_command())
    assert resp.status == 500
    assert clock.sleeps == 0
    executor.shutdown()


def test_installed_slack_bolt_still_polls_for_the_ack(clock: CountingTime) -> None:
    """Without the fix, the request thread sleeps in 10 ms steps until the ack: when this
    fails, slack-bolt changed its runner and ack_waiting_executor may be unneeded."""
    executor = ThreadPoolExecutor(2)
    app = _app(executor)

    @app.command("/voice")
    def voice(ack: Any) -> None:
        clock.polled.wait(10)  # ack only once the runner has polled
        ack()

    assert app.dispatch(_command()).status == 200
    assert clock.sleeps >= 1
    executor.shutdown()
