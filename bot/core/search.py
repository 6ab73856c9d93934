"""Recall: the quotes `/voice <topic>` shows, and an honest count of the evidence behind them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.query import Query
from store.db import db_errors
from store.errors import InvalidQuote
from store.models import Quote
from store.policy import person_key
from store.queries import quotes as q
from store.retrieval import ranking
from store.retrieval.embeddings import Embedder
from store.retrieval.index import IndexRegistry

log = logging.getLogger(__name__)
MAX_LIMIT = 100  # quotes in one answer (the CLI's --limit)
MAX_OFFSET = 1000  # how deep any caller may page


@dataclass(frozen=True)
class QuoteHit:
    quote: q.QuoteView
    score: float
    also: int = 0  # other captures of the same words, visible here


@dataclass(frozen=True)
class Breadth:
    """How much stored evidence matches the topic (after filters and privacy)."""

    matches: int = 0
    people: int = 0
    companies: int = 0
    first: datetime | None = None
    last: datetime | None = None


@dataclass(frozen=True)
class SearchResult:
    query: Query
    hits: tuple[QuoteHit, ...] = ()
    breadth: Breadth = field(default_factory=Breadth)
    offset: int = 0
    has_more: bool = False


class SearchService:
    """Dense retrieval with feedback (see :mod:`store.retrieval.ranking`), filters and privacy."""

    def __init__(self, sessions: sessionmaker[Session], embedder: Embedder,
                 indexes: IndexRegistry) -> None:
        self.sessions = sessions
        self.embedder = embedder
        self.indexes = indexes

    @db_errors
    def search(self, team_id: str, query: Query, *, limit: int = 5, offset: int = 0,
               channel_id: str | None = None,
               speaker_teams: frozenset[str] | None = None) -> SearchResult:
        """Up to ``limit`` quotes after ``offset``, visible in ``channel_id``.

        ``channel_id=None`` is an administrator's view (the CLI) that includes private quotes;
        a Slack surface always passes the conversation it answers in. ``speaker_teams``
        narrows to quotes whose speaker belongs to one of those organisations (what may be
        posted in a channel shared with them; empty: nothing).
        """
        if not (0 <= offset <= MAX_OFFSET and 1 <= limit <= MAX_LIMIT):
            raise InvalidQuote(f"results are shown {MAX_LIMIT} at a time, at most "
                               f"{MAX_OFFSET + MAX_LIMIT} deep")
        if speaker_teams is not None and not speaker_teams:
            return SearchResult(query=query, offset=offset)
        index = self.indexes.get(team_id)
        with self.sessions() as session:
            allowed = self._allowed(session, team_id, query, channel_id, speaker_teams)
            if not query.topic:
                return self._recent(session, team_id, query, allowed, limit, offset)
        vector = self.embedder.encode([query.topic])[0]
        want = offset + limit
        ranked, matched = ranking.rank_and_count(vector, index, k=max(4 * want, 20),
                                                 allowed=allowed, said_at=self._said_at(team_id))
        ids = [i for i, _ in ranked]
        with self.sessions() as session:
            found = q.views(session, team_id, ids)
            breadth = self._breadth(session, team_id, [i for i, _ in matched])
        voices: set[int] = set()
        present = []
        for i, s in ranked:  # one voice (the same words captured twice) is shown once
            if i in found and found[i].voice not in voices:
                voices.add(found[i].voice)
                present.append((i, s))
        vecs = index.vectors([i for i, _ in present]) if present else []
        candidates = [
            ranking.Candidate(id=i, score=s, speaker_key=found[i].speaker_key,
                              company_key=found[i].company_key, text_key=found[i].text,
                              vector=v)
            for (i, s), v in zip(present, vecs)]
        chosen = ranking.diversify(candidates, k=want + 1)
        page = chosen[offset:want]
        with self.sessions() as session:
            also = self._other_captures(session, team_id, [found[c.id] for c in page], allowed)
        hits = tuple(QuoteHit(found[c.id], c.score, also.get(c.id, 0)) for c in page)
        return SearchResult(query=query, hits=hits, breadth=breadth, offset=offset,
                            has_more=len(chosen) > want)

    def _said_at(self, team_id: str):  # type: ignore[no-untyped-def]
        """When a quote was said (epoch seconds), looked up only for near-ties."""
        def said_at(quote_id: int) -> float | None:
            with self.sessions() as session:
                row = session.execute(select(Quote.said_at, Quote.captured_at).where(
                    Quote.team_id == team_id, Quote.id == quote_id)).first()
            return q._aware(row[0] or row[1]).timestamp() if row else None

        return said_at

    def _allowed(self, session: Session, team_id: str, query: Query,
                 channel_id: str | None,
                 speaker_teams: frozenset[str] | None = None):  # type: ignore[no-untyped-def]
        if speaker_teams is not None:
            return q.allowed_ids(session, team_id, query.filters, channel_id,
                                 speaker_teams=speaker_teams).__contains__
        if query.filters:
            return q.allowed_ids(session, team_id, query.filters, channel_id).__contains__
        if channel_id is None:
            return None
        hidden = q.hidden_ids(session, team_id, channel_id)
        return (lambda i: i not in hidden) if hidden else None

    def _recent(self, session: Session, team_id: str, query: Query, allowed, limit: int,
                offset: int) -> SearchResult:  # type: ignore[no-untyped-def]
        stmt = (select(Quote.id).where(Quote.team_id == team_id, *q.filter_clauses(query.filters))
                .order_by(Quote.captured_at.desc(), Quote.id.desc()))
        ids = [i for i in session.scalars(stmt) if allowed is None or allowed(i)]
        found = q.views(session, team_id, ids[offset : offset + limit])
        hits = tuple(QuoteHit(found[i], 1.0) for i in ids[offset : offset + limit] if i in found)
        return SearchResult(query=query, hits=hits, breadth=self._breadth(session, team_id, ids),
                            offset=offset, has_more=len(ids) > offset + limit)

    @staticmethod
    def _other_captures(session: Session, team_id: str, views: list[q.QuoteView],
                        allowed) -> dict[int, int]:  # type: ignore[no-untyped-def]
        roots = {v.voice for v in views}
        if not roots:
            return {}
        # Two index look-ups (primary key, then voice_id) rather than one OR, which SQLite
        # plans as a walk over the whole team (bench/PERF.md); the team is checked per row.
        rows = {r.id: r for r in session.execute(select(
            Quote.id, Quote.voice_id, Quote.team_id).where(Quote.id.in_(roots)))}
        rows.update({r.id: r for r in session.execute(select(
            Quote.id, Quote.voice_id, Quote.team_id).where(Quote.voice_id.in_(roots)))})
        per_voice: dict[int, int] = {}
        for quote_id, voice_id, team in rows.values():
            if team == team_id and (allowed is None or allowed(quote_id)):
                per_voice[voice_id or quote_id] = per_voice.get(voice_id or quote_id, 0) + 1
        return {v.id: per_voice.get(v.voice, 1) - 1 for v in views}

    @staticmethod
    def _breadth(session: Session, team_id: str, ids: list[int]) -> Breadth:
        if not ids:
            return Breadth()
        people: set[str] = set()
        companies: set[str] = set()
        voices: set[int] = set()
        first = last = None
        for start in range(0, len(ids), 1000):
            rows = session.execute(
                select(Quote.id, Quote.voice_id, Quote.speaker_user_id, Quote.speaker_name,
                       Quote.company, Quote.said_at, Quote.captured_at)
                .where(Quote.team_id == team_id, Quote.id.in_(ids[start : start + 1000]))).all()
            for r in rows:
                voices.add(r.voice_id or r.id)  # the same words captured twice count once
                key = person_key(r.speaker_user_id, r.speaker_name)
                if key:
                    people.add(key)
                if r.company:
                    companies.add(q.normalize_key(r.company))
                when = q._aware(r.said_at or r.captured_at)
                first = when if first is None or when < first else first
                last = when if last is None or when > last else last
        return Breadth(matches=len(voices), people=len(people), companies=len(companies),
                       first=first, last=last)
