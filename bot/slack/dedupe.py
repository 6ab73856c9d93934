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
from datetime import timedelta
from typing import TYPE_CHECKING, Any

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
    """Claims receipts in their own short transactions; purges expired ones now and then."""

    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock = system_clock,
                 ttl: timedelta = RECEIPT_TTL, purge_every: float = 60.0) -> None:
        self.sessions, self.clock, self.ttl = sessions, clock, ttl
        self.purge_every = purge_every
        self._next_purge = 0.0
        self._lock = threading.Lock()
        self._local: OrderedDict[str, float] = OrderedDict()

    def claim(self, key: str) -> bool:
        """True the first time ``key`` is seen (until it expires), on any replica.

        While the database is unreachable, requests still run (a capture is then held and
        retried, see bot/services.py) and receipts are kept in this process only, in a
        bounded map: a retry reaching this replica is still skipped."""
        try:
            self._maybe_purge()
            with self.sessions.begin() as session:
                return receipts.claim(session, key, now=self.clock(), ttl=self.ttl)
        except SQLAlchemyError as exc:
            log.warning("request receipts unavailable; deduplicating in this process only",
                        extra={"error": type(exc).__name__})
            return self._claim_locally(key)

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
            with self.sessions.begin() as session:
                receipts.release(session, key)
        except SQLAlchemyError:
            log.warning("request receipt could not be released")

    def purge(self) -> int:
        with self.sessions.begin() as session:
            return receipts.purge_expired(session, now=self.clock())

    def _maybe_purge(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now < self._next_purge:
                return
            self._next_purge = now + self.purge_every
        purged = self.purge()
        if purged:
            log.info("expired request receipts purged", extra={"count": purged})


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
            if not receipts_.claim(key):
                retry = req.headers.get("x-slack-retry-num", [None])[0]
                log.info("repeated delivery acknowledged, not run",
                         extra={"kind": key.split(":", 1)[0], "retry": retry})
                return BoltResponse(status=200, body="")
            return next()

    app.use(SkipRepeatedDeliveries())
