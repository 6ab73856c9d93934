"""The look-ups a search makes besides the quotes themselves (those are
:func:`store.queries.quotes.views`). Functions take a Session, never commit, and return
plain values."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    case,
    distinct,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from store.models import Quote, QuoteRevision
from store.policy import normalize_key, person_key
from store.queries.quotes import Filters, QuoteView, _aware, filter_clauses, view


def recent_ids(session: Session, team_id: str, filters: Filters) -> list[int]:
    """Ids matching ``filters``, newest capture first (a search without a topic)."""
    stmt = (select(Quote.id).where(Quote.team_id == team_id, *filter_clauses(filters))
            .order_by(Quote.captured_at.desc(), Quote.id.desc()))
    return list(session.scalars(stmt))


#: What a QuoteView shows (not the vector, which is large and read from the index).
_VIEW_COLUMNS = tuple(c for c in Quote.__table__.columns
                      if c.name not in ("embedding", "dedupe_key", "emotion_by", "updated_at"))


@dataclass(frozen=True)
class Tally:
    """The breadth of a set of quotes: distinct voices (the same words captured again count
    once), people (:func:`store.policy.person_key`), companies (normalised), and when the
    oldest and newest were said (else captured)."""

    voices: int = 0
    people: int = 0
    companies: int = 0
    first: datetime | None = None
    last: datetime | None = None
    #: quotes that name no company (so "at N companies" would not be true of all of them)
    unnamed: int = 0


@dataclass(frozen=True)
class Found:
    """What a topic search reads in its one round trip."""

    views: dict[int, QuoteView]  # the shown quotes by id (others of the team absent)
    tally: Tally  # of the counted quotes
    captures: dict[int, int]  # every capture of the shown quotes' voices: {quote id: voice}


def _ids_param(dialect: str) -> Any:
    """The type of a bound list of ids: a JSON array on SQLite, an array on PostgreSQL."""
    return postgresql.ARRAY(Integer) if dialect == "postgresql" else String


def _among(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """``column IN <the ids bound as name>``, one bound parameter whatever the number of ids
    (:func:`_bind_ids`): the statement's text, and so its plan, never changes."""
    ids = bindparam(name, type_=_ids_param(dialect))
    among: ColumnElement[bool] = (
        column == any_(ids) if dialect == "postgresql" else
        column.in_(select(literal_column("value")).select_from(func.json_each(ids))))
    return among


def _bind_ids(dialect: str, ids: Sequence[int]) -> Any:
    listed = [int(i) for i in ids]
    return listed if dialect == "postgresql" else json.dumps(listed)


def _distinct_json(dialect: str, value: Any) -> Any:
    """The distinct non-null values of ``value`` over the rows, as a JSON array (text)."""
    if dialect == "postgresql":
        return sql_cast(func.json_agg(distinct(value)), Text)
    return func.json_group_array(distinct(value))


@cache
def _found_statement(dialect: str) -> Any:
    """The one statement of :func:`views_and_tally`, built once per dialect: rows of
    ``kind`` 0 are the shown quotes (with their revision counts); 1 is one row of totals of
    the counted quotes (distinct voices in ``id``, oldest and newest said in ``said_at`` and
    ``captured_at``, JSON arrays of their distinct speaker ids, of their distinct names
    without an id, and of their distinct companies in ``speaker_user_id``, ``speaker_name``
    and ``company``, and how many name no company in ``revision_count``); 2 every capture
    of the shown quotes' voices (``id``, ``voice_id``)."""
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"no search statement for the {dialect!r} database")
    # Rows are found by primary key first, in materialized CTEs, and only then checked for
    # the team: a planner that misjudges the team's size (PostgreSQL before its first ANALYZE
    # of a freshly filled table) would otherwise walk the team's index (~0.5 s at 100k).
    team: Any = bindparam("team")
    shown = select(*_VIEW_COLUMNS, select(func.count()).where(
        QuoteRevision.quote_id == Quote.id).correlate(Quote).scalar_subquery()
        .label("revision_count")).where(_among(dialect, Quote.id, "shown")).cte(
        "shown").prefix_with("MATERIALIZED")
    shown_rows = select(literal_column("0").label("kind"), *shown.c).where(
        shown.c.team_id == team)
    names = [c.name for c in shown_rows.selected_columns][1:]

    def row(kind: int, **values: Any) -> list[Any]:
        return [literal_column(str(kind))] + [values.get(n, null()) for n in names]

    m = select(func.coalesce(Quote.voice_id, Quote.id).label("voice"), Quote.team_id,
               Quote.speaker_user_id, Quote.speaker_name, Quote.company,
               func.coalesce(Quote.said_at, Quote.captured_at).label("said")).where(
        _among(dialect, Quote.id, "counted")).cte("counted").prefix_with("MATERIALIZED")
    no_id = func.coalesce(m.c.speaker_user_id, "") == ""
    totals = select(*row(
        1, id=func.count(distinct(m.c.voice)),
        said_at=func.min(m.c.said), captured_at=func.max(m.c.said),
        speaker_user_id=_distinct_json(dialect, case((no_id, null()),
                                                     else_=m.c.speaker_user_id)),
        speaker_name=_distinct_json(dialect, case((no_id, m.c.speaker_name))),
        company=_distinct_json(dialect, m.c.company),
        revision_count=func.sum(case((func.coalesce(m.c.company, "") == "", 1), else_=0)),
    )).where(m.c.team_id == team)
    voices = (select(func.coalesce(shown.c.voice_id, shown.c.id))
              .where(shown.c.team_id == team))
    # Two index look-ups (primary key, then voice_id) rather than one OR, which SQLite plans
    # as a walk over the whole team (bench/PERF.md); their team is checked by the caller.
    firsts = select(*row(2, id=Quote.id, voice_id=func.coalesce(Quote.voice_id, Quote.id),
                         team_id=Quote.team_id)).where(Quote.id.in_(voices))
    again = select(*row(2, id=Quote.id, voice_id=Quote.voice_id, team_id=Quote.team_id)
                   ).where(Quote.voice_id.in_(voices))
    return union_all(shown_rows, totals, firsts, again)


@cache
def _row_type(columns: tuple[str, ...]) -> Any:
    """A named tuple of ``columns``, to read the statement's rows by name: a SQLAlchemy
    ``Row`` answers ``row.name`` in about 0.7 us, and a QuoteView reads 32 columns (20
    views took 0.57 ms from rows, 0.24 ms through this tuple)."""
    return namedtuple("FoundRow", columns)


def _listed(value: str | None) -> list[Any]:
    return [v for v in json.loads(value) if v is not None] if value else []


def views_and_tally(session: Session | Connection, team_id: str, shown: Sequence[int],
                    counted: Sequence[int]) -> Found:
    """The quotes a search may show (``quotes.views``), the :class:`Tally` of the
    ``counted`` ones (counted by the database: no row per counted quote comes back, only
    their distinct speakers and companies, to count by store.policy's rules), and every
    capture of the shown quotes' voices, in one statement: one round trip, whatever the
    number of ids. ``session`` may be a Core connection (a search reads on one)."""
    dialect = (session.get_bind() if isinstance(session, Session) else session).dialect.name
    views: dict[int, QuoteView] = {}
    captures: dict[int, int] = {}
    tally = Tally()
    result = session.execute(_found_statement(dialect), {
        "team": team_id, "shown": _bind_ids(dialect, shown),
        "counted": _bind_ids(dialect, counted)})
    for r in map(_row_type(tuple(result.keys()))._make, result):
        if r.kind == 0:
            views[r.id] = view(r, r.revision_count)
        elif r.kind == 1:
            people = {person_key(u, None) for u in _listed(r.speaker_user_id) if u}
            people |= {person_key(None, n) for n in _listed(r.speaker_name)}
            firms = {normalize_key(c) for c in _listed(r.company) if c}
            tally = Tally(int(r.id or 0), len(people - {None}), len(firms - {""}),
                          _aware(r.said_at) if r.said_at else None,
                          _aware(r.captured_at) if r.captured_at else None,
                          unnamed=int(r.revision_count or 0))
        elif r.team_id == team_id:
            captures[r.id] = r.voice_id
    return Found(views, tally, captures)


def tally(session: Session, team_id: str, ids: Sequence[int]) -> Tally:
    """The :class:`Tally` of ``ids`` (of ``team_id``), in one statement."""
    return views_and_tally(session, team_id, [], ids).tally
