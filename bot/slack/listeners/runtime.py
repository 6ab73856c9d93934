"""What listeners share: services, Slack look-ups, the bounded search pool."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.query import Query
from bot.slack.directory import Directory
from bot.slack.views import blocks
from store.errors import DatabaseUnavailable, QueryFailed
from store.policy import (
    Conversation,
    Member,
    may_change_quote,
    may_change_settings,
    settings_role_text,
)

if TYPE_CHECKING:
    from bot.container import Services

log = logging.getLogger(__name__)

Reply = tuple[str, list[dict]]
NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}
PAGE = 5  # quotes per answer
MAX_DEPTH = 50  # results a person can page through ("Show more" stops there)


@dataclass
class Runtime:
    services: Services
    search_pool: ThreadPoolExecutor
    directory: Directory = field(default_factory=Directory)
    work_pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        4, thread_name_prefix="voicebot-work"))
    installation_store: object | None = None
    retry_delays: tuple[float, ...] = (2, 5, 15, 30, 60, 120, 300)

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

    def background(self, work: Callable[..., object], *args: object) -> None:
        """Run capture work after the ack, off the listener pool; failures are logged."""

        def run() -> None:
            try:
                work(*args)
            except Exception:  # noqa: BLE001 - logged with its traceback; Slack was acked
                log.exception("background work failed", extra={"work": work.__name__})

        self.work_pool.submit(run)

    def member(self, client, team_id: str, user_id: str) -> Member:  # type: ignore[no-untyped-def]
        """The requesting user's role as Slack reports it (a failed look-up grants nothing)."""
        return self.directory.member(client, team_id, user_id)

    def may_change(self, client, team_id: str, user_id: str, quote) -> bool:  # type: ignore[no-untyped-def]
        """The policy's answer for changing ``quote``; asks Slack only when not the capturer."""
        if quote.captured_by and quote.captured_by == user_id:
            return True
        return may_change_quote(quote, self.member(client, team_id, user_id))

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

    def run_search(self, team_id: str, query: Query, target: blocks.Target, *,
                   respond: Callable[..., object] | None = None,
                   post: Callable[[Reply], object] | None = None, offset: int = 0,
                   user_id: str | None = None, replace_original: bool = False,
                   posted_in: Conversation | None = None) -> None:
        """Queue the search on the bounded search pool and return at once: the listener
        thread (and so the next request's ack) is never held by model or database work.

        ``posted_in``: the results are posted for everyone in that conversation (an
        @mention), so only quotes the policy lets be posted there are searched."""
        self.search_pool.submit(self._search_and_send, team_id, query, target, respond, post,
                                offset, user_id, replace_original, posted_in)

    def _search_and_send(self, team_id: str, query: Query, target: blocks.Target,
                         respond: Callable[..., object] | None,
                         post: Callable[[Reply], object] | None, offset: int,
                         user_id: str | None, replace_original: bool,
                         posted_in: Conversation | None = None) -> None:
        in_thread = post is not None

        def send(reply: Reply) -> None:
            if post is not None:
                post(reply)
            elif respond is not None:
                respond(text=reply[0], blocks=reply[1], response_type="ephemeral",
                        replace_original=replace_original)

        try:
            speaker_teams = None
            if posted_in is not None and posted_in.external:
                speaker_teams = posted_in.external_teams if self.share_own_org(team_id) \
                    else frozenset()
            result = self.services.search.search(team_id, query, limit=PAGE, offset=offset,
                                                 channel_id=target.channel_id,
                                                 speaker_teams=speaker_teams)
        except DatabaseUnavailable:
            log.warning("search failed: database unavailable", extra={"team": team_id})
            send(blocks.message("I can't reach my database right now, so I can't search. "
                                "Please try again in a minute."))
            return
        except QueryFailed as exc:
            log.warning("search refused by the database", extra={"team": team_id,
                                                                 "reason": str(exc)[:300]})
            send(blocks.message("My database couldn't run that search. Try fewer or shorter "
                                "filters, or a few plain words."))
            return
        except Exception:
            log.exception("search failed", extra={"team": team_id})
            send(blocks.message("Something went wrong while searching; it has been logged. "
                                "Please try again."))
            return
        if not result.hits:
            if query.topic:
                send(blocks.no_match(query.topic, self.emoji(team_id)))
            else:
                send(blocks.message("No quotes match those filters yet."))
            return
        send(blocks.search_reply(result, target, mask=self.mask, show_buttons=not in_thread,
                                 max_depth=MAX_DEPTH))
        try:
            self.services.usage.record_use(
                team_id, [h.quote.id for h in result.hits], "shown", user_id, target.channel_id)
        except DatabaseUnavailable:
            log.warning("could not record quote use", extra={"team": team_id})

    def settings_permission(self, client, team_id: str, user_id: str) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
        """(allowed, who may) for changing this workspace's settings."""
        role = self.services.workspaces.get(team_id).settings_role
        allowed = may_change_settings(role, self.member(client, team_id, user_id))
        return allowed, settings_role_text(role)

    def digest_channel_problem(self, client, team_id: str, channel: str | None) -> str | None:  # type: ignore[no-untyped-def]
        """Why ``channel`` cannot take the digest (it is read by another organisation)."""
        if channel and self.directory.conversation(client, team_id, channel).external:
            return (f"<#{channel}> is shared with another organisation; the digest quotes "
                    "users and must stay internal. Choose an internal channel.")
        return None

    def digest_command(self, client, team_id: str, user_id: str, args: str,  # type: ignore[no-untyped-def]
                       here: str) -> Reply:
        """`/voice digest [here|off|#channel] [day] [HH:MM] [Zone/Name]`: change or show."""
        from bot.core.workspaces import DAY_NAMES, parse_digest_args
        from store.errors import InvalidQuote

        workspaces = self.services.workspaces
        try:
            changes = parse_digest_args(args, here)
            if changes:
                allowed, who = self.settings_permission(client, team_id, user_id)
                if not allowed:
                    log.warning("settings change refused", extra={"team": team_id,
                                                                  "user": user_id})
                    return blocks.message(f"Only {who} can change voicebot's settings. Ask "
                                          "one of them; `/voice digest` shows the current "
                                          "schedule.")
                problem = self.digest_channel_problem(client, team_id,
                                                      changes.get("digest_channel"))  # type: ignore[arg-type]
                if problem:
                    return blocks.message(problem)
            settings = (workspaces.update(team_id, **changes) if changes
                        else workspaces.get(team_id))
        except InvalidQuote as exc:
            return blocks.message(f"{exc}. Example: `/voice digest here monday 09:00 "
                                  "Europe/Paris`, or `/voice digest off`.")
        except DatabaseUnavailable:
            return blocks.message("I can't reach my database right now; try again shortly.")
        if not settings.digest_channel:
            return blocks.message("The weekly digest is *off*. Turn it on here with "
                                  "`/voice digest here monday 09:00 Europe/Paris`.")
        return blocks.message(
            f"The weekly digest goes to <#{settings.digest_channel}> on "
            f"{DAY_NAMES[settings.digest_weekday].title()}s at {settings.digest_time} "
            f"({settings.digest_timezone}). Change it with `/voice digest ...` or in my App "
            "Home; make sure I'm in that channel.")

    @staticmethod
    def explain_post_error(error: str | None, channel: str) -> str:
        if error in NOT_IN_CHANNEL:
            return (f"I'm not in <#{channel}>, so I can't post there. Invite me with "
                    "`/invite @voicebot` and try again.")
        return f"Slack refused the post ({error}). Please try again."
