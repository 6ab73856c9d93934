"""Run each Slack delivery once, whichever replica (or Socket Mode connection) receives it.

Slack redelivers an event up to three times (``X-Slack-Retry-Num``) and a captured request
can be replayed with that header. A retry is recognised by what it carries, not by its
headers: the event id, an action's trigger, a view's id, hash and trigger, a command's
trigger. The first delivery claims a receipt row in the database (``request_receipts``);
later ones are acknowledged with an empty 200, so Slack stops retrying, and not executed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.clock import Clock, system_clock
from store.queries import receipts

if TYPE_CHECKING:
    from collections.abc import Callable

    from slack_bolt import App, BoltRequest, BoltResponse

log = logging.getLogger(__name__)

#: Slack retries after about 0 s, 1 min and 5 min; a receipt outlives the last retry and
#: the 5-minute signature window.
RECEIPT_TTL = timedelta(minutes=10)
#: Receipts held in memory while the database is unreachable (verified requests only).
LOCAL_LIMIT = 10_000


class Receipts:
    """Claims receipts in their own short transactions; purges expired ones now and then
    (every ``purge_every`` seconds in the claiming thread, or, when it is None, whenever
    :meth:`purge_and_log` is called: the server does so on a thread of its own).

    Over HTTP the gate (bot/gate.py) claims a request's signature and its delivery in one
    transaction (:meth:`claim_request`) and hands the delivery over to the middleware
    (:func:`install`) through this thread: the middleware then does not claim it again.
    A delivery the middleware never saw (the request was refused on the way, by Bolt's
    authorization or the workspace guard) is given back (:meth:`release_unconfirmed`), so
    the receipt means what it meant when the middleware claimed it: the delivery ran."""

    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock = system_clock,
                 ttl: timedelta = RECEIPT_TTL, purge_every: float | None = 60.0,
                 engine: Engine | None = None) -> None:
        self.sessions, self.clock, self.ttl = sessions, clock, ttl
        self.purge_every = purge_every
        bind = engine if engine is not None else sessions.kw.get("bind")
        self._engine: Engine | None = bind if isinstance(bind, Engine) else None
        self._next_purge = 0.0
        self._lock = threading.Lock()
        self._local: OrderedDict[str, float] = OrderedDict()
        self._handed = threading.local()  # the delivery the gate claimed for this thread

    def claim(self, key: str) -> bool:
        """True the first time ``key`` is seen (until it expires), on any replica.

        While the database is unreachable, requests still run (a capture is then held and
        retried, see bot/services.py) and receipts are kept in this process only, in a
        bounded map: a retry reaching this replica is still skipped."""
        return self.claim_request(key)[0]

    def claim_request(self, key: str, delivery: str | None = None) -> tuple[bool, bool | None]:
        """Claim ``key``; when that wins and ``delivery`` is given, claim ``delivery`` too, in
        the same transaction (one commit). Returns (``key`` won, ``delivery`` won, or None
        when it was not tried). A lost ``key`` claims nothing."""
        try:
            self._maybe_purge()
            now = self.clock()
            with self._begin() as conn:
                if not receipts.claim(conn, key, now=now, ttl=self.ttl):
                    return False, None
                if delivery is None:
                    return True, None
                return True, receipts.claim(conn, delivery, now=now, ttl=self.ttl)
        except SQLAlchemyError as exc:
            log.warning("request receipts unavailable; deduplicating in this process only",
                        extra={"error": type(exc).__name__})
            if not self._claim_locally(key):
                return False, None
            return True, None if delivery is None else self._claim_locally(delivery)

    def _begin(self) -> AbstractContextManager[Connection | Session]:
        """A Core connection in a transaction (cheaper than an ORM session), or a session
        when the session factory has no single engine."""
        return self._engine.begin() if self._engine is not None else self.sessions.begin()

    def hand_over(self, delivery: str | None) -> None:
        """Tell the middleware, on this thread, that ``delivery`` is claimed (None: nothing)."""
        self._handed.key = delivery

    def handed_over(self, delivery: str) -> bool:
        """Whether the gate claimed ``delivery`` for the request this thread is running (then
        it is confirmed: the middleware saw it)."""
        if getattr(self._handed, "key", None) == delivery:
            self._handed.key = None
            return True
        return False

    def release_unconfirmed(self) -> None:
        """Give back a delivery the gate claimed that the middleware never saw."""
        key = getattr(self._handed, "key", None)
        if key is not None:
            self._handed.key = None
            self.release(key)

    def _claim_locally(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._local.get(key)
            if seen is not None and now - seen < self.ttl.total_seconds():
                return False
            self._local[key] = now
            while len(self._local) > LOCAL_LIMIT:
                self._local.popitem(last=False)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._local.pop(key, None)
        try:
            with self._begin() as conn:
                receipts.release(conn, key)
        except SQLAlchemyError:
            log.warning("request receipt could not be released")

    def purge(self) -> int:
        with self.sessions.begin() as session:
            return receipts.purge_expired(session, now=self.clock())

    def purge_and_log(self) -> int:
        """:meth:`purge`, with a log line when anything expired (the server runs it on its
        own thread, off the request path)."""
        purged = self.purge()
        if purged:
            log.info("expired request receipts purged", extra={"count": purged})
        return purged

    def _maybe_purge(self) -> None:
        if self.purge_every is None:  # purged by a periodic thread instead
            return
        with self._lock:
            now = time.monotonic()
            if now < self._next_purge:
                return
            self._next_purge = now + self.purge_every
        self.purge_and_log()


def _digest(kind: str, *parts: Any) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"{kind}:{hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()}"


def delivery_key(body: Any) -> str | None:
    """What identifies one delivery of ``body`` (Bolt's parsed request body), or None when
    nothing does (URL verification, options loading): such requests are never deduplicated.
    Two people pressing the same button, or two commands, have different triggers/users."""
    if not isinstance(body, dict):
        return None
    try:
        kind = body.get("type")
        team = (body.get("team") or {}).get("id") if isinstance(body.get("team"), dict) \
            else body.get("team_id")
        user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) \
            else body.get("user_id")
        if kind == "event_callback":
            return _digest("event", body.get("api_app_id"), body["event_id"]) \
                if body.get("event_id") else None
        if body.get("command") and body.get("trigger_id"):
            return _digest("command", team, user, body["command"], body["trigger_id"])
        if kind == "block_actions":
            actions = [(a.get("action_id"), a.get("block_id"), a.get("action_ts"))
                       for a in body.get("actions") or []]
            container = body.get("container") or {}
            return _digest("action", team, user, body.get("trigger_id"), actions,
                           container.get("channel_id"), container.get("message_ts"),
                           container.get("view_id"))
        if kind in ("view_submission", "view_closed"):
            view = body.get("view") or {}
            return _digest(kind, team, user, view.get("id"), view.get("hash"),
                           body.get("trigger_id"))
        if kind in ("shortcut", "message_action") and body.get("trigger_id"):
            return _digest("shortcut", team, user, body.get("callback_id"),
                           body["trigger_id"], body.get("action_ts"))
    except (AttributeError, TypeError, KeyError):
        return None  # a malformed payload: Bolt answers it (400) without side effects
    return None


def install(app: App, receipts_: Receipts) -> None:
    """Add the global middleware that acknowledges and skips repeated deliveries; it runs
    after Bolt's own verification and authorization, for HTTP and Socket Mode alike."""
    from slack_bolt import BoltResponse
    from slack_bolt.middleware import Middleware

    class SkipRepeatedDeliveries(Middleware):
        def process(self, *, req: BoltRequest, resp: BoltResponse,
                    next: Callable[[], BoltResponse]) -> BoltResponse | None:
            key = delivery_key(req.body)
            if key is None:
                return next()
            if receipts_.handed_over(key):  # claimed with the signature by the gate
                return next()
            if not receipts_.claim(key):
                retry = req.headers.get("x-slack-retry-num", [None])[0]
                log.info("repeated delivery acknowledged, not run",
                         extra={"kind": key.split(":", 1)[0], "retry": retry})
                return BoltResponse(status=200, body="")
            return next()

    app.use(SkipRepeatedDeliveries())
