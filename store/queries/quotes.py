"""Quote queries: what a quote is (:class:`NewQuote` in, :class:`QuoteView` out), storing,
finding and removing quotes, and the search filters.

Functions take a Session and never commit: the use cases in ``bot/core`` own transactions.
Inserting new quotes is in :mod:`store.queries.new_quotes`, changes to stored quotes in
:mod:`store.queries.edits`, near-duplicate voices in :mod:`store.queries.voices`, vectors
in :mod:`store.queries.vectors`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    Text,
    delete,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import QueryableAttribute, Session

from store.errors import InvalidQuote
from store.models import MAX_QUOTE_CHARS, Quote, QuoteRevision, SourceKind, utcnow
from store.policy import (
    hidden_clause,
    normalize_key,
    person_key,
    spoken_within_clause,
    visible_clause,
)
from store.queries.id_lists import padded, padded_chunks
from store.vocab import NEW_USER_TAG
from store.vocab import SOURCE_ALIASES as SOURCE_ALIASES  # re-exported
from store.vocab import parse_source_kind as parse_source_kind  # re-exported


def text_problem(text: object) -> str | None:
    """Why ``text`` cannot be stored as a quote's words (captured or edited), or None."""
    if not isinstance(text, str) or not text.strip():
        return "the quote is empty: there are no words to keep"
    if len(text) > MAX_QUOTE_CHARS:
        return (f"the quote is {len(text):,} characters; Slack messages hold at most "
                f"{MAX_QUOTE_CHARS:,}, so this is not one thing someone said")
    if "\x00" in text:
        return "the quote contains a NUL character, which cannot be stored"
    return None


@dataclass(frozen=True)
class NewQuote:
    """A quote to store. ``text`` is kept exactly as given."""

    team_id: str
    text: str
    source_kind: SourceKind = SourceKind.OTHER
    speaker_name: str | None = None
    speaker_user_id: str | None = None
    speaker_team_id: str | None = None
    company: str | None = None
    segment: str | None = None
    source_url: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    is_private: bool = False
    shareable: bool = False  # a private-origin quote its capturer let be shown elsewhere
    first_hand: bool = True
    relayed_by: str | None = None
    captured_by: str | None = None
    captured_at: datetime | None = None  # default: when it is stored (an export keeps it)
    said_at: datetime | None = None
    tags: tuple[str, ...] = ()
    emotion: str | None = None
    emotion_confidence: float | None = None
    emotion_model: str | None = None  # the head that guessed it; None: a person chose it
    is_excerpt: bool = False  # the capturer kept only part of the Slack message
    #: A passage of an interview transcript: its stable key (transcript, speaker, start),
    #: which transcript, where it starts (seconds) and its offsets in the spoken text.
    passage_key: str | None = None
    transcript_key: str | None = None
    start_seconds: float | None = None
    char_start: int | None = None
    char_end: int | None = None
    #: A support-desk comment written in HTML: its original HTML, kept for audit.
    source_html: str | None = None

    def validated(self) -> NewQuote:
        """Return self if storable, else raise :class:`InvalidQuote` saying why."""
        if not self.team_id:
            raise InvalidQuote("a quote needs a workspace (team id)")
        problem = text_problem(self.text)
        if problem:
            raise InvalidQuote(problem)
        if self.passage_key is not None and len(self.passage_key) > 128:
            raise InvalidQuote("the key is longer than 128 characters")
        said_at, captured_at = _utc(self.said_at), _utc(self.captured_at)
        tags = tuple(dict.fromkeys(self.tags))
        if said_at is self.said_at and captured_at is self.captured_at and tags == self.tags:
            return self  # already in shape (an import validates every row: no copy)
        return replace(self, said_at=said_at, captured_at=captured_at, tags=tags)

    @cached_property
    def dedupe_key(self) -> str:
        """Slack messages are keyed by channel and ts, transcript passages by their passage
        key (so a corrected transcript updates them); other quotes by their content.
        Computed once per object (it is frozen; an import asks several times)."""
        if self.passage_key:
            return self.passage_key
        if self.channel_id and self.message_ts:
            return f"slack:{self.channel_id}:{self.message_ts}"
        parts = [self.text, self.speaker_name, self.company, self.source_kind.value,
                 self.source_url, self.said_at.isoformat() if self.said_at else None]
        digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
        return f"sha256:{digest}"


def _utc(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


@dataclass(frozen=True)
class QuoteView:
    """A stored quote as the rest of the app sees it (never an ORM object)."""

    id: int
    team_id: str
    text: str
    speaker_name: str | None
    speaker_user_id: str | None
    speaker_team_id: str | None
    company: str | None
    segment: str | None
    source_kind: str
    source_url: str | None
    channel_id: str | None
    message_ts: str | None
    thread_ts: str | None
    is_private: bool
    shareable: bool
    first_hand: bool
    relayed_by: str | None
    captured_by: str | None
    captured_at: datetime
    said_at: datetime | None
    tags: tuple[str, ...]
    emotion: str | None
    emotion_confidence: float | None
    embedding_model: str | None
    revisions: int = 0
    voice_id: int | None = None
    is_excerpt: bool = False
    source_changed: bool = False
    transcript_key: str | None = None
    start_seconds: float | None = None
    char_start: int | None = None
    char_end: int | None = None

    @property
    def voice(self) -> int:
        """The id shared by every capture of these words (the first capture's id)."""
        return self.voice_id or self.id

    @property
    def when(self) -> datetime:
        return self.said_at or self.captured_at

    @property
    def speaker_key(self) -> str | None:
        return person_key(self.speaker_user_id, self.speaker_name)

    @property
    def company_key(self) -> str | None:
        return normalize_key(self.company) if self.company else None


def view(q: Quote | Any, revisions: int = 0) -> QuoteView:
    """The frozen view of a quote (an ORM object, or a Row of the same columns)."""
    return QuoteView(
        id=q.id, team_id=q.team_id, text=q.text, speaker_name=q.speaker_name,
        speaker_user_id=q.speaker_user_id, speaker_team_id=q.speaker_team_id,
        company=q.company, segment=q.segment, source_kind=q.source_kind,
        source_url=q.source_url, channel_id=q.channel_id, message_ts=q.message_ts,
        thread_ts=q.thread_ts, is_private=q.is_private, shareable=q.shareable,
        first_hand=q.first_hand, relayed_by=q.relayed_by, captured_by=q.captured_by,
        captured_at=_aware(q.captured_at), said_at=_aware(q.said_at) if q.said_at else None,
        tags=tuple(q.tags or ()), emotion=q.emotion, emotion_confidence=q.emotion_confidence,
        embedding_model=q.embedding_model, revisions=revisions, voice_id=q.voice_id,
        is_excerpt=bool(q.is_excerpt), source_changed=bool(q.source_changed),
        transcript_key=q.transcript_key, start_seconds=q.start_seconds,
        char_start=q.char_start, char_end=q.char_end,
    )


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def to_row(nq: NewQuote, *, embedding: bytes | None, model: str | None,
           now: datetime) -> dict[str, object]:
    """The insert values of ``nq``, captured at ``now`` (the caller's clock)."""
    return dict(
        team_id=nq.team_id, text=nq.text, speaker_name=nq.speaker_name,
        speaker_user_id=nq.speaker_user_id, speaker_team_id=nq.speaker_team_id,
        company=nq.company, segment=nq.segment, source_kind=nq.source_kind.value,
        source_url=nq.source_url, channel_id=nq.channel_id, message_ts=nq.message_ts,
        thread_ts=nq.thread_ts, is_private=nq.is_private, shareable=nq.shareable,
        first_hand=nq.first_hand, relayed_by=nq.relayed_by, captured_by=nq.captured_by,
        captured_at=nq.captured_at or now, said_at=nq.said_at, tags=list(nq.tags),
        emotion=nq.emotion, emotion_confidence=nq.emotion_confidence, emotion_by=None,
        emotion_model=nq.emotion_model, embedding=embedding, embedding_model=model,
        dedupe_key=nq.dedupe_key, updated_at=utcnow(),
        is_excerpt=nq.is_excerpt, source_changed=False, transcript_key=nq.transcript_key,
        start_seconds=nq.start_seconds, char_start=nq.char_start, char_end=nq.char_end,
        source_html=nq.source_html,
    )


def get(session: Session, team_id: str, quote_id: int) -> Quote | None:
    """The ORM row, for the other query modules (use cases get :func:`views`)."""
    q = session.get(Quote, quote_id)
    return q if q is not None and q.team_id == team_id else None


def by_message(session: Session, team_id: str, channel_id: str, ts: str) -> Quote | None:
    """The ORM row saved from a Slack message, for the other query modules."""
    return session.scalar(select(Quote).where(
        Quote.team_id == team_id, Quote.channel_id == channel_id, Quote.message_ts == ts))


def view_of_message(session: Session, team_id: str, channel_id: str,
                    ts: str) -> QuoteView | None:
    quote = by_message(session, team_id, channel_id, ts)
    return None if quote is None else view(quote, revisions=len(quote.revisions))


def ids(session: Session, team_id: str | None = None) -> list[int]:
    """Every quote id (of ``team_id`` when given), in id order."""
    stmt = select(Quote.id).order_by(Quote.id)
    if team_id is not None:
        stmt = stmt.where(Quote.team_id == team_id)
    return list(session.scalars(stmt))


def present(session: Session, team_id: str, wanted: Sequence[int]) -> list[int]:
    """Those of ``wanted`` that are stored in ``team_id``."""
    return list(session.scalars(select(Quote.id).where(
        Quote.team_id == team_id, Quote.id.in_(padded(dict.fromkeys(wanted))))))


def captured_between(session: Session, team_id: str, start: datetime, end: datetime,
                     channel_id: str | None) -> list[int]:
    """Ids captured in ``[start, end)``, oldest first; only those visible in ``channel_id``
    when given."""
    stmt = select(Quote.id).where(Quote.team_id == team_id,
                                  Quote.captured_at >= start, Quote.captured_at < end)
    if channel_id:
        stmt = stmt.where(visible_clause(channel_id))
    return list(session.scalars(stmt.order_by(Quote.captured_at)))


def views(session: Session, team_id: str, ids: Iterable[int]) -> dict[int, QuoteView]:
    """QuoteViews by id, for ids in ``team_id`` (others are silently absent)."""
    out: dict[int, QuoteView] = {}
    for chunk in padded_chunks(list(dict.fromkeys(ids)), 500):
        counts = dict(session.execute(
            select(QuoteRevision.quote_id, func.count()).where(QuoteRevision.quote_id.in_(chunk))
            .group_by(QuoteRevision.quote_id)).all())
        for q in session.scalars(select(Quote).where(Quote.team_id == team_id,
                                                     Quote.id.in_(chunk))):
            out[q.id] = view(q, counts.get(q.id, 0))
    return out


def delete_ids(session: Session, team_id: str, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    result = cast(CursorResult[Any], session.execute(
        delete(Quote).where(Quote.team_id == team_id, Quote.id.in_(ids))))
    return int(result.rowcount or 0)


def teams(session: Session) -> list[str]:
    return list(session.scalars(select(Quote.team_id).distinct().order_by(Quote.team_id)))


def count(session: Session, team_id: str | None = None) -> int:
    stmt = select(func.count()).select_from(Quote)
    if team_id:
        stmt = stmt.where(Quote.team_id == team_id)
    return int(session.scalar(stmt) or 0)


#: (team_id, id, embedding, model) of one stored quote, as start-up reads them
StoredRow = tuple[str, int, bytes | None, str | None]


def team_sizes(session: Session) -> dict[str, int]:
    """How many quotes each team has (read from the team index, not the rows)."""
    return {t: int(n) for t, n in session.execute(
        select(Quote.team_id, func.count()).group_by(Quote.team_id))}


def stored_vectors(session: Session, *, batch: int = 20_000) -> Iterator[list[StoredRow]]:
    """Every quote's (team_id, id, embedding, model), in id order, ``batch`` rows at a time
    (keyset pages: each a short statement; plain tuples, never ORM objects). PostgreSQL
    through psycopg sends them in its binary format: half the bytes of the hex text format,
    and no decoding (the read was a third faster; bench/PERF.md, start to ready)."""
    connection = session.connection()
    raw: Any = connection.connection.driver_connection
    if (connection.dialect.name, connection.dialect.driver) == ("postgresql", "psycopg"):
        with raw.cursor(binary=True) as cursor:
            yield from _pages(lambda last: cursor.execute(
                "SELECT team_id, id, embedding, embedding_model FROM quotes WHERE id > %s "
                "ORDER BY id LIMIT %s", (last, batch)).fetchall())
        return
    stmt = (select(Quote.team_id, Quote.id, Quote.embedding, Quote.embedding_model)
            .order_by(Quote.id).limit(batch))
    yield from _pages(lambda last: connection.execute(stmt.where(Quote.id > last)).all())


def _pages(read: Callable[[int], Sequence[Any]]) -> Iterator[list[StoredRow]]:
    """Keyset pages: ``read(last id)`` until it returns nothing."""
    last = 0
    while rows := cast(list[StoredRow], list(read(last))):
        yield rows
        last = rows[-1][1]


@dataclass(frozen=True)
class Filters:
    """What `/voice segment:smb since:30d topic` narrows results to."""

    segment: tuple[str, ...] = ()
    company: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    emotion: tuple[str, ...] = ()
    speaker: tuple[str, ...] = ()
    since: datetime | None = None
    before: datetime | None = None
    #: True: only quotes tagged new_user (`new:yes`); False: only the others (`new:no`).
    new_user: bool | None = None

    def __bool__(self) -> bool:
        return any((self.segment, self.company, self.source, self.emotion, self.speaker,
                    self.since, self.before)) or self.new_user is not None


def has_tag(tag: str) -> ColumnElement[bool]:
    """Quotes whose tags include ``tag`` exactly. Tags are stored as a JSON list written by
    ``json.dumps`` (``["a", "b"]``), the same text on SQLite and PostgreSQL (``json`` keeps
    it as written): an element starts after ``[`` or ``, ``, and a ``"`` inside a string is
    always escaped (``\\"``), so ``"tag"`` there is that element and nothing else."""
    text = func.coalesce(sql_cast(Quote.tags, Text), "")
    element = json.dumps(tag)
    return or_(text.startswith("[" + element, autoescape=True),
               text.contains(", " + element, autoescape=True))


def filter_clauses(filters: Filters) -> list[ColumnElement[bool]]:
    def ilike_any(column: QueryableAttribute[str | None],
                  values: Iterable[str]) -> ColumnElement[bool]:
        return or_(*[func.lower(column).contains(v.lower(), autoescape=True) for v in values])

    clauses: list[ColumnElement[bool]] = []
    if filters.segment:
        clauses.append(ilike_any(Quote.segment, filters.segment))
    if filters.company:
        clauses.append(ilike_any(Quote.company, filters.company))
    if filters.speaker:
        clauses.append(ilike_any(Quote.speaker_name, filters.speaker))
    if filters.source:
        clauses.append(Quote.source_kind.in_(filters.source))
    if filters.emotion:
        clauses.append(Quote.emotion.in_(filters.emotion))
    when = func.coalesce(Quote.said_at, Quote.captured_at)
    if filters.since:
        clauses.append(when >= filters.since)
    if filters.before:
        clauses.append(when < filters.before)
    if filters.new_user is not None:
        tagged = has_tag(NEW_USER_TAG)
        clauses.append(tagged if filters.new_user else not_(tagged))
    return clauses


def allowed_ids(session: Session, team_id: str, filters: Filters,
                channel_id: str | None, *,
                speaker_teams: frozenset[str] | None = None,
                shared_with: frozenset[str] | None = None) -> set[int]:
    """Ids matching ``filters``; ``channel_id=None`` is the admin view (private included).
    ``speaker_teams`` keeps only quotes whose speaker belongs to one of those teams;
    ``shared_with`` (the answer is shown in a channel shared with those organisations)
    leaves out words spoken by any other organisation's members (store.policy.shown_in)."""
    stmt: Select[int] = select(Quote.id).where(Quote.team_id == team_id, *filter_clauses(filters))
    if channel_id is not None:
        stmt = stmt.where(visible_clause(channel_id))
    if speaker_teams is not None:
        stmt = stmt.where(Quote.speaker_team_id.in_(sorted(speaker_teams)))
    if shared_with is not None:
        stmt = stmt.where(spoken_within_clause(shared_with))
    return set(session.scalars(stmt))


def hidden_ids(session: Session, team_id: str, channel_id: str) -> set[int]:
    """Private quotes that must not be shown in ``channel_id`` (usually few)."""
    stmt = select(Quote.id).where(Quote.team_id == team_id, hidden_clause(channel_id))
    # read through the session's connection (Core rows): a thousand ids, no ORM per row
    return set(session.connection().execute(stmt).scalars().all())
