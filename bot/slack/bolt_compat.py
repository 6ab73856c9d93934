"""Fixes for slack-bolt behaviour voicebot depends on, each checked against the installed
version so an upgrade that fixes (or changes) it is noticed by the tests."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any


def fix_form_parsing() -> None:
    """slack-bolt (<= 1.30) parses any form body containing the letters "payload" as an
    interactivity payload, so `/voice webhook payload` (or a channel named "payload-team")
    reached no listener. Parse such bodies as plain forms unless a ``payload`` field exists.
    Found by tests/test_properties.py."""
    import json
    from urllib.parse import parse_qsl

    import slack_bolt.request.request as bolt_request

    if getattr(bolt_request.parse_body, "voicebot_fixed", False):
        return
    original = bolt_request.parse_body

    def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
        if body and "payload" in body and not body.startswith("{") \
                and content_type != "application/json":
            params = dict(parse_qsl(body, keep_blank_values=True))
            return json.loads(params["payload"]) if "payload" in params else params
        return original(body, content_type)

    parse_body.__dict__["voicebot_fixed"] = True  # the mark checked above
    bolt_request.parse_body = parse_body


def request_body(raw: bytes, content_type: str | None) -> Any:
    """``raw`` parsed as Bolt parses a request body (with :func:`fix_form_parsing`), or None
    when it cannot be (Bolt then answers the request itself)."""
    import slack_bolt.request.request as bolt_request

    try:
        return bolt_request.parse_body(raw.decode("utf-8"),
                                       content_type.split(";")[0] if content_type else None)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


class _TokenUnusedWarning:
    """Drops slack-bolt's "As you gave `client` as well, `token` will be unused": App reads
    SLACK_BOT_TOKEN from the environment by itself, and voicebot hands it a client already
    built with that token, so the warning is about nothing."""

    PREFIX = "As you gave `client` as well"

    def filter(self, record: Any) -> bool:
        return not str(record.msg).startswith(self.PREFIX)


def quiet_token_warning() -> None:
    """Attach :class:`_TokenUnusedWarning` to the logger slack-bolt's App warns on."""
    import logging

    logger = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _TokenUnusedWarning) for f in logger.filters):
        logger.addFilter(_TokenUnusedWarning())


#: How long ``submit`` waits for a listener's ack: Bolt's own default ``ack_timeout``.
ACK_WAIT = 3.0


def ack_waiting_executor(workers: int, thread_name_prefix: str,
                         wait: float = ACK_WAIT) -> Any:
    """Bolt's ``listener_executor`` that wakes the request thread the moment a listener acks.

    slack-bolt (<= 1.30; ``ThreadListenerRunner.run``) submits the listener to this
    executor, then polls ``ack.response`` in a ``time.sleep(0.01)`` loop: every ack waits
    for the next 10 ms tick (about 10 ms per request measured, bench/slack_http_stages.py).
    Here ``submit`` itself returns once the listener has acked (or finished, or ``wait``
    seconds passed), so Bolt's loop finds the answer on its first look. The ack it waits
    for is the one :func:`install_ack_signal`'s middleware put in the request's context, on
    this thread; a submit with no such ack (a lazy listener) does not wait."""
    from concurrent.futures import Future, ThreadPoolExecutor

    class AckWaitingExecutor(ThreadPoolExecutor):
        def __init__(self) -> None:
            super().__init__(workers, thread_name_prefix=thread_name_prefix)
            self.wait = wait
            self._expected = threading.local()

        def expect(self, ack: _SignallingAck) -> None:
            """The next listener this thread submits acknowledges with ``ack``."""
            self._expected.ack = ack

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
            ack = getattr(self._expected, "ack", None)
            self._expected.ack = None
            if ack is None:
                return super().submit(fn, *args, **kwargs)

            def run() -> Any:
                try:
                    return fn(*args, **kwargs)
                finally:
                    ack.given.set()  # finished (or failed) without an ack: stop waiting

            future = super().submit(run)
            ack.given.wait(self.wait)
            return future

    return AckWaitingExecutor()


class _SignallingAck:
    """Stands for slack_bolt's ``Ack`` class (built by :func:`_signalling_ack`)."""

    given: threading.Event


def _signalling_ack() -> Any:
    """An ``Ack`` whose ``given`` event is set when its response is (by ``ack()``, or by
    Bolt after a listener error)."""
    return _signalling_ack_class()()


@cache
def _signalling_ack_class() -> type:
    from slack_bolt import Ack

    class SignallingAck(Ack):
        def __init__(self) -> None:
            self.given = threading.Event()
            super().__init__()

        @property
        def response(self) -> Any:
            return self._response

        @response.setter
        def response(self, value: Any) -> None:
            self._response = value
            if value is not None:
                self.given.set()

    return SignallingAck


def install_ack_signal(app: Any, executor: Any) -> None:
    """Give every request a signalling ``ack`` that ``executor`` (from
    :func:`ack_waiting_executor`) waits on. A global middleware runs on the request's
    thread, after Bolt's verification and authorization and before its listener runner
    submits the listener: that submit finds the ack this middleware expected."""
    from slack_bolt.middleware import Middleware

    class SignalAck(Middleware):
        def process(self, *, req: Any, resp: Any, next: Any) -> Any:
            ack = _signalling_ack()
            req.context["ack"] = ack
            executor.expect(ack)
            return next()

    app.use(SignalAck())
