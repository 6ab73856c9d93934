"""What every listener shares: the services, Slack look-ups (:class:`Directory`), who may do
what (:class:`Permissions`), search answers (:class:`Answers`), and the bounded pools that
run work after the ack (:mod:`bot.slack.bounded`), with the durable backlog that takes the
captures they have no room for (:mod:`bot.core.capture_backlog`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.container import Services
from bot.core.capture_backlog import CaptureBacklog, Deferred
from bot.slack.answers import BUSY, MAX_DEPTH, PAGE, Answers
from bot.slack.bounded import BoundedPool
from bot.slack.directory import Directory
from bot.slack.permissions import Permissions
from bot.slack.responses import ResponsePoster
from store.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from slack_sdk.oauth.installation_store import InstallationStore

log = logging.getLogger(__name__)

NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}
__all__ = ["Runtime", "NOT_IN_CHANNEL", "PAGE", "MAX_DEPTH", "request_channel", "BUSY"]
#: Tasks the capture/work pool holds (queued or running) before new captures wait in the
#: database instead (about 1.5 KiB of memory each while queued).
MAX_QUEUED_WORK = 200


@dataclass
class Runtime:
    services: Services
    search_pool: BoundedPool
    directory: Directory = field(default_factory=Directory)
    work_pool: BoundedPool = field(default_factory=lambda: BoundedPool(
        4, MAX_QUEUED_WORK, "voicebot-work"))
    installation_store: InstallationStore | None = None
    responses: ResponsePoster = field(default_factory=ResponsePoster)
    retry_delays: tuple[float, ...] = (2, 5, 15, 30, 60, 120, 300)
    #: the Web API client for a workspace, for work not started by a request (the backlog)
    client_for: Callable[[str], WebClient] | None = None
    permissions: Permissions = field(init=False)
    answers: Answers = field(init=False)
    backlog: CaptureBacklog = field(init=False)
    #: runs one deferred capture; set by the capture listeners (bot.slack.listeners.capture)
    run_deferred: Callable[[Deferred], None] | None = None
    _draining: bool = field(default=False, init=False)
    _deferrals: int = field(default=0, init=False)
    _drain_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.permissions = Permissions(self.directory, self.services.workspaces)
        self.answers = Answers(self.services, self.search_pool, emoji=self.emoji,
                               share_own_org=self.share_own_org)
        self.backlog = CaptureBacklog(self.services.sessions, clock=self.services.clock)

    def retry(self, attempt: Callable[[], object]) -> None:
        """Run ``attempt`` again in the background with backoff until it stops raising
        DatabaseUnavailable (about ten minutes in all)."""

        def loop() -> None:
            for delay in self.retry_delays:
                time.sleep(delay)
                try:
                    attempt()
                    return
                except DatabaseUnavailable:
                    log.warning("retry failed: database still unavailable",
                                extra={"next_in": delay})
            log.error("gave up retrying after %d attempts", len(self.retry_delays))

        threading.Thread(target=loop, name="voicebot-retry", daemon=True).start()

    def respond_via(self, response_url: object,
                    fallback: Callable[..., object]) -> Callable[..., object]:
        """``respond`` for an answer sent after the ack: a kept-alive connection to the
        request's response_url (:mod:`bot.slack.responses`), else Bolt's ``fallback``."""
        if isinstance(response_url, str) and response_url.startswith(("https://", "http://")) \
                and self.responses.handles(response_url):
            return self.responses.respond_to(response_url)
        return fallback

    def background(self, work: Callable[..., object], *args: object) -> bool:
        """Run work after the ack, off the listener pool; failures are logged. False (and
        nothing run) when the work pool is full: the caller says so, or defers."""
        return self.work_pool.submit(work, *args)

    def must_run(self, work: Callable[..., object], *args: object) -> None:
        """Work that must not be dropped (a shortcut's capture, an edit, a removal): on the
        work pool, or on this listener thread when the pool is full, so a flood slows the
        listeners down instead of growing a queue."""
        if not self.background(work, *args):
            try:
                work(*args)
            except Exception:  # noqa: BLE001 - logged with its traceback; Slack was acked
                log.exception("background work failed",
                              extra={"work": getattr(work, "__name__", "?")})

    def capture(self, capture: Deferred) -> None:
        """Run a capture reaction now if the work pool has room, else keep it in the
        database until it has (:meth:`drain_in_background`): never lost, never held in
        memory."""
        if self.run_deferred is None:
            raise RuntimeError("no capture runner registered")
        if self.backlog_empty_hint() and self.background(self.run_deferred, capture):
            return
        try:
            self.backlog.defer(capture)
        except DatabaseUnavailable:  # held in memory and retried: the database is back soon
            log.warning("capture backlog unavailable; retrying", extra={"team": capture.team_id})
            self.retry(lambda: self.backlog.defer(capture))
        log.info("capture deferred: workers busy", extra={"team": capture.team_id})
        with self._drain_lock:
            self._deferrals += 1
        self.drain_in_background()

    def backlog_empty_hint(self) -> bool:
        """Whether no deferred capture is waiting in this process's view: while some are,
        new ones queue behind them (oldest first)."""
        with self._drain_lock:
            return not self._draining

    def drain_in_background(self) -> None:
        """Start the thread that runs deferred captures, unless it is running."""
        with self._drain_lock:
            if self._draining:
                return
            self._draining = True
        threading.Thread(target=self._drain, name="voicebot-capture-backlog",
                         daemon=True).start()

    def _drain(self, pause: float = 0.2) -> None:
        """Hand deferred captures to the work pool as it has room, oldest first; stop when
        the backlog is empty and nothing was deferred meanwhile."""
        try:
            while not self._drain_once(pause):
                pass
        except Exception:  # noqa: BLE001 - the rows stay; the next deferral drains again
            log.exception("capture backlog drain failed")
            with self._drain_lock:
                self._draining = False

    def _drain_once(self, pause: float) -> bool:
        """One step of :meth:`_drain`; True when the drain is over."""
        assert self.run_deferred is not None
        with self._drain_lock:
            seen = self._deferrals
        room = self.work_pool.room()
        if room == 0:
            time.sleep(pause)
            return False
        try:
            claimed = self.backlog.claim(room)
        except DatabaseUnavailable:
            log.warning("capture backlog unavailable; draining later")
            time.sleep(5)
            return False
        for capture in claimed:
            if not self.background(self.run_deferred, capture):  # raced for the room
                self.backlog.defer(capture)
        if claimed:
            return False
        with self._drain_lock:
            if self._deferrals != seen:
                return False
            self._draining = False
            return True

    @property
    def mask(self) -> bool:
        return bool(self.services.settings.mask_personal_data)

    def share_own_org(self, team_id: str) -> bool:
        """Whether this workspace lets a Slack Connect channel see its own people's quotes."""
        try:
            return self.services.workspaces.get(team_id).connect_share_own
        except DatabaseUnavailable:
            return False

    def emoji(self, team_id: str) -> str:
        try:
            return self.services.workspaces.get(team_id).capture_emoji
        except DatabaseUnavailable:
            return self.services.settings.capture_emoji

    @staticmethod
    def explain_post_error(error: str | None, channel: str) -> str:
        if error in NOT_IN_CHANNEL:
            return (f"I'm not in <#{channel}>, so I can't post there. Invite me with "
                    "`/invite @voicebot` and try again.")
        return f"Slack refused the post ({error}). Please try again."


def request_channel(body: dict) -> str | None:
    """The conversation an interactive request came from, as Slack sent it."""
    channel = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id")
    return str(channel) if channel else None
