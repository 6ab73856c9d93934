"""Answering a search in Slack: run it on the bounded search pool after the ack, render
it, send it (``respond`` for ``/voice``, a thread post for an @mention), record the use.
When the pool already holds its limit of searches, the person is told to try again in a
moment instead (a backlog must not grow the server without bound)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.container import Services
from bot.core.query import Query
from bot.core.search import SearchResult
from bot.core.usage import POSTED, SHOWN
from bot.slack.bounded import BoundedPool
from bot.slack.views import blocks
from bot.slack.views.recency import recency_line
from store.errors import DatabaseUnavailable, QueryFailed
from store.policy import Conversation

log = logging.getLogger(__name__)

Reply = tuple[str, list[dict]]
PAGE = 5  # quotes per answer
MAX_DEPTH = 50  # results a person can page through ("Show more" stops there)
#: Searches queued or running before new ones are answered "busy" (about 1.5 KiB each
#: while queued; at 50-200 ms a search on two workers, a few seconds' wait at most).
MAX_QUEUED_SEARCHES = 100
#: What a person is told when the server has more work queued than it takes.
BUSY = "I'm busy with a lot of requests right now. Please try again in a moment."


class Answers:
    def __init__(self, services: Services, search_pool: BoundedPool, *,
                 emoji: Callable[[str], str], share_own_org: Callable[[str], bool]) -> None:
        self.services = services
        self.search_pool = search_pool
        self.emoji = emoji
        self.share_own_org = share_own_org

    @property
    def mask(self) -> bool:
        return bool(self.services.settings.mask_personal_data)

    def run(self, team_id: str, query: Query, target: blocks.Target, *,
                   respond: Callable[..., object] | None = None,
                   post: Callable[[Reply], object] | None = None, offset: int = 0,
                   user_id: str | None = None, replace_original: bool = False,
                   posted_in: Conversation | None = None,
                   public: Callable[[], bool] | None = None,
                   audience: Callable[[], Conversation] | None = None) -> bool:
        """Queue the search on the bounded search pool and return at once: the listener
        thread (and so the next request's ack) is never held by model or database work.
        When the pool is full, the person is told to try again (:data:`BUSY`) and False is
        returned.

        ``posted_in``: the results are posted for everyone in that conversation (an
        @mention), so only quotes the policy lets be posted there are searched.
        ``public`` says (on the search pool, it may ask Slack) whether the whole workspace
        can read the conversation: topics asked there may be named in the digest.
        ``audience``: who reads the conversation an ephemeral answer is shown in (asked for
        on the pool: it may call Slack); in a channel shared with other organisations, words
        of any other organisation are left out (store.policy.shown_in)."""
        if self.search_pool.submit(self._search_and_send, team_id, query, target, respond,
                                   post, offset, user_id, replace_original, posted_in, public,
                                   audience):
            return True
        busy = blocks.message(BUSY)
        if respond is not None:  # never a public post: only the asker needs to know
            respond(text=busy[0], blocks=busy[1], response_type="ephemeral",
                    replace_original=False)
        elif post is not None:
            post(busy)
        return False

    def busy(self) -> bool:
        """Whether a new search would be refused now."""
        return self.search_pool.full()

    def _search_and_send(self, team_id: str, query: Query, target: blocks.Target,
                         respond: Callable[..., object] | None,
                         post: Callable[[Reply], object] | None, offset: int,
                         user_id: str | None, replace_original: bool,
                         posted_in: Conversation | None = None,
                         public: Callable[[], bool] | None = None,
                         audience: Callable[[], Conversation] | None = None) -> None:
        in_thread = post is not None

        def send(reply: Reply) -> None:
            if post is not None:
                post(reply)
            elif respond is not None:
                respond(text=reply[0], blocks=reply[1], response_type="ephemeral",
                        replace_original=replace_original)

        try:
            speaker_teams = shared_with = None
            if posted_in is not None and posted_in.external:
                speaker_teams = posted_in.external_teams if self.share_own_org(team_id) \
                    else frozenset()
            where = posted_in or (audience() if audience is not None else None)
            if where is not None and where.external:
                shared_with = where.external_teams
            result = self.services.search.search(team_id, query, limit=PAGE, offset=offset,
                                                 channel_id=target.channel_id,
                                                 speaker_teams=speaker_teams,
                                                 shared_with=shared_with)
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
            if query.topic and result.unfiltered:  # the filters, not the topic, are why
                send(blocks.message(blocks.escape(query.filtered_out(result.unfiltered))))
            elif query.topic:
                send(blocks.no_match(query.topic, self.emoji(team_id)))
            else:
                send(blocks.message("No quotes match those filters yet."))
            return
        stale_months = self.services.workspaces.get(team_id).stale_months
        recency = recency_line(result.breadth, self.services.clock(), stale_months,
                               has_since=query.filters.since is not None)
        send(blocks.search_reply(result, target, mask=self.mask, show_buttons=not in_thread,
                                 max_depth=MAX_DEPTH, recency=recency))
        if query.topic and offset == 0:
            self._remember_topic(team_id, query, result, target, public)
        try:
            self.services.usage.record_use(
                team_id, [h.quote.id for h in result.hits], POSTED if in_thread else SHOWN,
                user_id, target.channel_id, thread_ts=target.thread_ts if in_thread else None)
        except DatabaseUnavailable:
            log.warning("could not record quote use", extra={"team": team_id})

    def _remember_topic(self, team_id: str, query: Query, result: SearchResult,
                        target: blocks.Target, public: Callable[[], bool] | None) -> None:
        try:
            self.services.usage.record_ask(
                team_id, query.topic, channel_id=target.channel_id,
                public=bool(public and public()), matches=result.breadth.matches,
                newest_at=result.breadth.last)
        except Exception:  # noqa: BLE001 - the answer was sent; the digest line can wait
            log.warning("could not record the topic asked", extra={"team": team_id})
