"""Recall: the quotes `/voice <topic>` shows, and an honest count of the evidence behind them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.core.query import Query
from store.db import db_errors
from store.errors import InvalidQuote
from store.queries import quotes as q
from store.queries import search as sq
from store.queries.quotes import Filters
from store.retrieval import ranking
from store.retrieval.embeddings import Embedder, encode_topic
from store.retrieval.index import IndexRegistry

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_LIMIT = 100  # quotes in one answer (the CLI's --limit)
MAX_OFFSET = 1000  # how deep any caller may page

#: A stage timer: called with a stage's name, it returns the context manager the stage runs
#: in. :class:`SearchService` calls it around every stage below; a benchmark passes one that
#: records durations (bench/perf/stages.py), the app passes none.
Timer = Callable[[str], AbstractContextManager[object]]

#: The stages of a search with a topic, in the order they run, one after another:
#: ``allowed`` is the wait, after the encode, for the look-up of what the conversation may
#: not see (it runs on another thread while the topic is encoded: :class:`Beside`); ``rank``
#: is the index scan (one pass over the team's vectors), ranking and match count; ``views``
#: is one database round trip that reads the ranked quotes and the database's tally of every
#: match; ``ties`` puts near-ties newest first from the rows just read (no look-up per
#: quote); ``breadth`` turns the tally into the header's counts; ``diversify`` includes
#: dropping repeated voices and reading their vectors; ``other_captures`` counts the shown
#: quotes' other captures, read in the same round trip.
TOPIC_STAGES = ("encode", "allowed", "rank", "views", "ties", "breadth", "diversify",
                "other_captures")
#: The stages of a search without a topic (filters only, newest first).
RECENT_STAGES = ("allowed", "recent", "views", "breadth")
#: stage -> the stage it runs inside
NESTED: dict[str, str] = {}

_NOTHING = nullcontext()


def no_timer(stage: str) -> AbstractContextManager[object]:
    """The default :data:`Timer`: times nothing (a shared ``nullcontext``)."""
    return _NOTHING


@dataclass(frozen=True)
class QuoteHit:
    quote: q.QuoteView
    score: float
    also: int = 0  # other captures of the same words, visible here
    #: among the quotes the breadth header counts; False: shown as less closely related
    counted: bool = True


@dataclass(frozen=True)
class Breadth:
    """How much stored evidence matches the topic (after filters and privacy)."""

    matches: int = 0
    people: int = 0
    companies: int = 0
    first: datetime | None = None
    last: datetime | None = None
    approximate: bool = False  # an estimate, shown as "about N"
    #: some matching quotes name no company: the companies are those named, not all
    unnamed_companies: bool = False


@dataclass(frozen=True)
class SearchResult:
    query: Query
    hits: tuple[QuoteHit, ...] = ()
    breadth: Breadth = field(default_factory=Breadth)
    offset: int = 0
    has_more: bool = False
    #: No quote matched the topic with the filters: how many match it without them (shown
    #: so that the filter, not the topic, is seen as the reason). None when not asked.
    unfiltered: int | None = None

    def less_related_from(self) -> int | None:
        """Index in ``hits`` from which every hit is outside the counted matches (the header
        "N matching quotes" does not count them, so a reader is told), or None when the
        page ends with a counted hit."""
        start = len(self.hits)
        while start > 0 and not self.hits[start - 1].counted:
            start -= 1
        return start if start < len(self.hits) else None

    def placed(self) -> list[tuple[int, QuoteHit, bool, bool]]:
        """Each hit as a renderer lays it out: ``(number, hit, less_related_starts, alone)``:
        its number in the answer, whether the "less closely related" part starts at it, and
        whether it is outside the count among counted hits (source diversity moved it up),
        so marked on its own."""
        less = self.less_related_from()
        return [(self.offset + k + 1, hit, k == less,
                 not hit.counted and (less is None or k < less))
                for k, hit in enumerate(self.hits)]


class Beside:
    """Runs short database look-ups on other threads while the caller encodes a topic, at
    most ``threads`` at once: when all are busy, the caller runs its look-up itself
    afterwards (never queued behind others, never more threads than this)."""

    def __init__(self, threads: int = 4) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="voicebot-lookup")
        self._free = threading.BoundedSemaphore(threads)

    def start(self, work: Callable[[], T]) -> Callable[[], T]:
        """Start ``work``; the returned function gives its result (or raises its error)."""
        if not self._free.acquire(blocking=False):
            return work
        try:
            future = self._pool.submit(work)
        except RuntimeError:  # shut down: run it on the caller's thread
            self._free.release()
            return work
        future.add_done_callback(lambda _: self._free.release())
        return future.result

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class SearchService:
    """Dense retrieval with feedback (see :mod:`store.retrieval.ranking`), filters and privacy.

    ``timer`` (a :data:`Timer`) is called around each stage of :meth:`search`, named as in
    :data:`TOPIC_STAGES` and :data:`RECENT_STAGES`; by default it does nothing.
    """

    def __init__(self, sessions: sessionmaker[Session], embedder: Embedder,
                 indexes: IndexRegistry, *, timer: Timer | None = None) -> None:
        self.sessions = sessions
        self.embedder = embedder
        self.indexes = indexes
        self.timer: Timer = timer or no_timer
        self.beside = Beside()

    def close(self) -> None:
        self.beside.close()

    def closeness(self, team_id: str, topic: str, quote_ids: Sequence[int]) -> list[float]:
        """Plain cosine similarity of ``topic`` to each quote (the ranking's scores are
        relative; this is the absolute "is it about the same thing" reading)."""
        present, vecs = self.indexes.get(team_id).present(quote_ids)
        if not present:
            return [0.0 for _ in quote_ids]
        vector = encode_topic(self.embedder, topic)
        sims = dict(zip(present, (float(x) for x in vecs @ vector)))
        return [sims.get(i, 0.0) for i in quote_ids]

    @db_errors
    def search(self, team_id: str, query: Query, *, limit: int = 5, offset: int = 0,
               channel_id: str | None = None,
               speaker_teams: frozenset[str] | None = None,
               shared_with: frozenset[str] | None = None) -> SearchResult:
        """Up to ``limit`` quotes after ``offset``, visible in ``channel_id``.

        ``channel_id=None`` is an administrator's view (the CLI) that includes private quotes;
        a Slack surface always passes the conversation it answers in. ``speaker_teams``
        narrows to quotes whose speaker belongs to one of those organisations (what may be
        posted in a channel shared with them; empty: nothing). ``shared_with``: the answer
        is shown (even only to the asker) in a channel shared with those organisations, so
        words spoken by any other organisation's members are left out.
        """
        if not (0 <= offset <= MAX_OFFSET and 1 <= limit <= MAX_LIMIT):
            raise InvalidQuote(f"results are shown {MAX_LIMIT} at a time, at most "
                               f"{MAX_OFFSET + MAX_LIMIT} deep")
        if speaker_teams is not None and not speaker_teams:
            return SearchResult(query=query, offset=offset)
        timer = self.timer
        index = self.indexes.get(team_id)

        def look_up() -> Callable[[int], bool] | None:
            with self.sessions() as session:
                return self._allowed(session, team_id, query, channel_id, speaker_teams,
                                     shared_with)

        if not query.topic:
            with self.sessions() as session:
                with timer("allowed"):
                    allowed = self._allowed(session, team_id, query, channel_id,
                                            speaker_teams, shared_with)
                return self._recent(session, team_id, query, allowed, limit, offset)
        looked_up = self.beside.start(look_up)  # the database answers while the model runs
        with timer("encode"):
            vector = encode_topic(self.embedder, query.topic)
        with timer("allowed"):
            allowed = looked_up()
        want = offset + limit
        with timer("rank"):
            ranked, matched = ranking.rank_and_count(vector, index, k=max(4 * want, 20),
                                                     allowed=allowed)
        with self._reading() as connection, timer("views"):  # one round trip for both
            read = sq.views_and_tally(connection, team_id, [i for i, _ in ranked],
                                      [i for i, _ in matched])
        found = read.views
        with timer("ties"):  # the ranked ids are fixed; only near-ties' order needs dates
            ranked = ranking.newest_first_ties(ranked, lambda i: _said_at(found.get(i)))
        with timer("breadth"):
            breadth = _breadth(read.tally, approximate=True)
        with timer("diversify"):
            voices: set[int] = set()
            present = []
            for i, s in ranked:  # one voice (the same words captured twice) is shown once
                if i in found and found[i].voice not in voices:
                    voices.add(found[i].voice)
                    present.append((i, s))
            vecs: Iterable[np.ndarray] = index.vectors([i for i, _ in present]) if present else []
            candidates = [
                ranking.Candidate(id=i, score=s, speaker_key=found[i].speaker_key,
                                  company_key=found[i].company_key, text_key=found[i].text,
                                  vector=v)
                for (i, s), v in zip(present, vecs)]
            chosen = ranking.diversify(candidates, k=want + 1)
        page = chosen[offset:want]
        with timer("other_captures"):  # read in the same round trip as the views
            also = _other_captures(read.captures, [found[c.id] for c in page], allowed)
        counted = {i for i, _ in matched}
        counted_voices = {found[i].voice for i in counted if i in found}
        hits = tuple(QuoteHit(found[c.id], c.score, also.get(c.id, 0),
                              counted=c.id in counted or found[c.id].voice in counted_voices)
                     for c in page)
        unfiltered = None
        if not hits and query.filters and offset == 0:  # say whether the filters are why
            unfiltered = self.search(team_id, replace(query, filters=Filters()), limit=1,
                                     channel_id=channel_id,
                                     speaker_teams=speaker_teams).breadth.matches
        return SearchResult(query=query, hits=hits, breadth=breadth, offset=offset,
                            has_more=len(chosen) > want, unfiltered=unfiltered)

    def _reading(self) -> AbstractContextManager[Connection | Session]:
        """What the views' one statement runs on: a Core connection (no ORM session and unit
        of work to set up and tear down for one read), or a session when the factory has no
        single engine."""
        bind = self.sessions.kw.get("bind")
        return bind.connect() if isinstance(bind, Engine) else self.sessions()

    def _allowed(self, session: Session, team_id: str, query: Query,
                 channel_id: str | None,
                 speaker_teams: frozenset[str] | None = None,
                 shared_with: frozenset[str] | None = None) -> Callable[[int], bool] | None:
        if speaker_teams is not None or shared_with is not None:
            return q.allowed_ids(session, team_id, query.filters, channel_id,
                                 speaker_teams=speaker_teams,
                                 shared_with=shared_with).__contains__
        if query.filters:
            return q.allowed_ids(session, team_id, query.filters, channel_id).__contains__
        if channel_id is None:
            return None
        hidden = q.hidden_ids(session, team_id, channel_id)
        return (lambda i: i not in hidden) if hidden else None

    def _recent(self, session: Session, team_id: str, query: Query,
                allowed: Callable[[int], bool] | None, limit: int,
                offset: int) -> SearchResult:
        with self.timer("recent"):
            ids = [i for i in sq.recent_ids(session, team_id, query.filters)
                   if allowed is None or allowed(i)]
        with self.timer("views"):
            found = q.views(session, team_id, ids[offset : offset + limit])
        hits = tuple(QuoteHit(found[i], 1.0) for i in ids[offset : offset + limit] if i in found)
        with self.timer("breadth"):
            breadth = _breadth(sq.tally(session, team_id, ids))
        return SearchResult(query=query, hits=hits, breadth=breadth,
                            offset=offset, has_more=len(ids) > offset + limit)


def _said_at(quote: q.QuoteView | None) -> float | None:
    """When a quote was said (else captured), in epoch seconds; None when it is gone."""
    return quote.when.timestamp() if quote is not None else None


def _other_captures(captures: dict[int, int], views: list[q.QuoteView],
                    allowed: Callable[[int], bool] | None) -> dict[int, int]:
    """Per shown quote, how many other captures of its words are visible here
    (``captures``: {quote id: voice} of every capture of the shown quotes' voices)."""
    shown = {v.voice for v in views}
    per_voice: dict[int, int] = {}
    for quote_id, voice in captures.items():
        if voice in shown and (allowed is None or allowed(quote_id)):
            per_voice[voice] = per_voice.get(voice, 0) + 1
    return {v.id: per_voice.get(v.voice, 1) - 1 for v in views}


def _breadth(tally: sq.Tally, *, approximate: bool = False) -> Breadth:
    """The same words captured twice count once; people by store.policy.person_key.

    ``approximate``: the evidence was chosen by similarity (a topic), so the counts are an
    estimate (bench/QUALITY.md, "Breadth") and are shown as "about N".
    """
    if not tally.voices:
        return Breadth()
    return Breadth(matches=tally.voices, people=tally.people, companies=tally.companies,
                   first=tally.first, last=tally.last, approximate=approximate,
                   unnamed_companies=tally.unnamed > 0)
