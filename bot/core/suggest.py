"""Offers of evidence: when someone speaks for users in a channel that asked for it, look the
topic up with the same search as `/voice` and, when the evidence is strong, offer its words.

Quiet by design: off unless turned on per channel; one offer per thread (a unique row, so
across replicas too); a daily cap per channel; never on bots' messages or in channels shared
with other organisations (the listener checks those before calling); quotes only where the
policy lets them be shown (the search is run for the channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.core.claims import Claim, find_claim
from bot.core.query import Query, parse_query
from bot.core.search import SearchResult, SearchService
from store.clock import Clock, system_clock
from store.db import db_errors
from store.queries import suggest
from store.queries.suggest import Offer, OfferCounts

#: Strong evidence: at least this many matching quotes from at least this many people
#: (bench/CLAIMS.md measures the offers these make on the demo bank).
MIN_QUOTES = 3
MIN_PEOPLE = 3
#: ...and one of the top three is at least this close to the topic (cosine): the breadth
#: count alone also "matches" unrelated topics (bench/CLAIMS.md).
MIN_SCORE = 0.45
DAILY_CAP = 5  # offers per channel per UTC day


@dataclass(frozen=True)
class Proposal:
    """An offer made: what was claimed and the evidence found."""

    offer: Offer
    claim: Claim
    result: SearchResult


@dataclass(frozen=True)
class ChannelState:
    enabled: bool
    changed_by: str | None
    changed_at: datetime | None


class Suggestions:
    def __init__(self, sessions: sessionmaker[Session], search: SearchService,
                 clock: Clock = system_clock, *, min_quotes: int = MIN_QUOTES,
                 min_people: int = MIN_PEOPLE, min_score: float = MIN_SCORE,
                 daily_cap: int = DAILY_CAP) -> None:
        self.sessions = sessions
        self.search = search
        self.clock = clock
        self.min_quotes, self.min_people, self.daily_cap = min_quotes, min_people, daily_cap
        self.min_score = min_score

    @db_errors
    def turn(self, team_id: str, channel_id: str, on: bool, *, by: str) -> None:
        with self.sessions.begin() as session:
            suggest.set_channel(session, team_id, channel_id, on, by=by, at=self.clock())

    @db_errors
    def state(self, team_id: str, channel_id: str) -> ChannelState:
        with self.sessions() as session:
            return ChannelState(*suggest.channel_state(session, team_id, channel_id))

    @db_errors
    def channels(self, team_id: str) -> list[str]:
        with self.sessions() as session:
            return suggest.channels_on(session, team_id)

    @db_errors
    def counts(self, team_id: str) -> OfferCounts:
        with self.sessions() as session:
            return suggest.counts(session, team_id)

    @db_errors
    def offer(self, team_id: str, offer_id: int) -> Offer | None:
        with self.sessions() as session:
            return suggest.get_offer(session, team_id, offer_id)

    @db_errors
    def record_outcome(self, offer_id: int, outcome: str) -> None:
        with self.sessions.begin() as session:
            suggest.set_outcome(session, offer_id, outcome)

    def closest(self, team_id: str, topic: str, result: SearchResult) -> float:
        """How close the best of the top three quotes is to the topic (cosine)."""
        ids = [h.quote.id for h in result.hits[:3]]
        return max(self.search.closeness(team_id, topic, ids), default=0.0)

    def query_for(self, topic: str) -> Query:
        """The search an offer runs: the claim's topic as plain words (never filters)."""
        query = parse_query(topic.replace(":", " "), now=self.clock())
        return query if not query.problems else Query(topic=topic[:200], raw=topic[:200])

    @db_errors
    def consider(self, team_id: str, channel_id: str, thread_ts: str, user_id: str,
                 text: str) -> Proposal | None:
        """The offer to make for a message, or None: not a claim, this thread already had
        one, the channel's daily cap is reached, or the evidence is thin."""
        claim = find_claim(text)
        if claim is None:
            return None
        now = self.clock()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        with self.sessions() as session:
            if not suggest.channel_state(session, team_id, channel_id)[0]:
                return None
            if suggest.thread_has_offer(session, team_id, channel_id, thread_ts):
                return None
            if suggest.offers_since(session, team_id, channel_id, day) >= self.daily_cap:
                return None
        result = self.search.search(team_id, self.query_for(claim.topic), limit=5,
                                    channel_id=channel_id)
        b = result.breadth
        if b.matches < self.min_quotes or b.people < self.min_people or not result.hits:
            return None
        if self.closest(team_id, claim.topic, result) < self.min_score:
            return None
        with self.sessions.begin() as session:
            if suggest.offers_since(session, team_id, channel_id, day) >= self.daily_cap:
                return None
            offer = suggest.claim_offer(
                session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts,
                user_id=user_id, topic=claim.topic, matches=b.matches, people=b.people,
                at=now)
        return Proposal(offer, claim, result) if offer is not None else None
