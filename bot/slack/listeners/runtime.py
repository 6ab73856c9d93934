"""What every listener shares: the services, Slack look-ups (:class:`Directory`), who may do
what (:class:`Permissions`), search answers (:class:`Answers`), and the pools that run work
after the ack."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.container import Services
from bot.slack.answers import MAX_DEPTH, PAGE, Answers
from bot.slack.directory import Directory
from bot.slack.permissions import Permissions
from bot.slack.responses import ResponsePoster
from store.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from slack_sdk.oauth.installation_store import InstallationStore

log = logging.getLogger(__name__)

NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}
__all__ = ["Runtime", "NOT_IN_CHANNEL", "PAGE", "MAX_DEPTH", "request_channel"]


@dataclass
class Runtime:
    services: Services
    search_pool: ThreadPoolExecutor
    directory: Directory = field(default_factory=Directory)
    work_pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        4, thread_name_prefix="voicebot-work"))
    installation_store: InstallationStore | None = None
    responses: ResponsePoster = field(default_factory=ResponsePoster)
    retry_delays: tuple[float, ...] = (2, 5, 15, 30, 60, 120, 300)
    permissions: Permissions = field(init=False)
    answers: Answers = field(init=False)

    def __post_init__(self) -> None:
        self.permissions = Permissions(self.directory, self.services.workspaces)
        self.answers = Answers(self.services, self.search_pool, emoji=self.emoji,
                               share_own_org=self.share_own_org)

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
        if isinstance(response_url, str) and response_url.startswith(("https://", "http://")):
            return self.responses.respond_to(response_url)
        return fallback

    def background(self, work: Callable[..., object], *args: object) -> None:
        """Run capture work after the ack, off the listener pool; failures are logged."""

        def run() -> None:
            try:
                work(*args)
            except Exception:  # noqa: BLE001 - logged with its traceback; Slack was acked
                log.exception("background work failed", extra={"work": work.__name__})

        self.work_pool.submit(run)

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
