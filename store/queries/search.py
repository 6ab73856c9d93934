"""The look-ups a search makes besides the quotes themselves (those are
:func:`store.queries.quotes.views`). Functions take a Session, never commit, and return
plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from store.models import Quote, QuoteRevision
from store.policy import normalize_key, person_key
from store.queries.id_lists import padded, padded_chunks
from store.queries.quotes import Filters, QuoteView, _aware, filter_clauses, view

CHUNK = 1000  # ids per IN (...) list


@dataclass(frozen=True)
class Evidence:
    """What one matching quote adds to a topic's breadth."""

    id: int
    voice: int  # the first capture of the same words (the quote itself when first)
    person: str | None  # store.policy.person_key, None when nobody is named
    company: str | None  # normalised
    when: datetime  # said (or else captured), timezone-aware


def said_at(session: Session, team_id: str, quote_id: int) -> float | None:
    """When a quote was said (else captured), in epoch seconds; None when it is not there."""
    row = session.execute(select(Quote.said_at, Quote.captured_at).where(
        Quote.team_id == team_id, Quote.id == quote_id)).first()
    return _aware(row[0] or row[1]).timestamp() if row else None


def recent_ids(session: Session, team_id: str, filters: Filters) -> list[int]:
    """Ids matching ``filters``, newest capture first (a search without a topic)."""
    stmt = (select(Quote.id).where(Quote.team_id == team_id, *filter_clauses(filters))
            .order_by(Quote.captured_at.desc(), Quote.id.desc()))
    return list(session.scalars(stmt))


def _evidence(r: Any) -> Evidence:  # a Row with the evidence columns
    return Evidence(id=r.id, voice=r.voice_id or r.id,
                    person=person_key(r.speaker_user_id, r.speaker_name) or None,
                    company=normalize_key(r.company) if r.company else None,
                    when=_aware(r.said_at or r.captured_at))


def evidence(session: Session, team_id: str, ids: Sequence[int]) -> list[Evidence]:
    """One :class:`Evidence` per id of ``team_id`` among ``ids`` (others are absent)."""
    out: list[Evidence] = []
    for chunk in padded_chunks(list(dict.fromkeys(ids)), CHUNK):
        rows = session.execute(
            select(Quote.id, Quote.voice_id, Quote.speaker_user_id, Quote.speaker_name,
                   Quote.company, Quote.said_at, Quote.captured_at)
            .where(Quote.team_id == team_id, Quote.id.in_(chunk))).all()
        out += [_evidence(r) for r in rows]
    return out


#: What a QuoteView shows (not the vector, which is large and read from the index).
_VIEW_COLUMNS = tuple(c for c in Quote.__table__.columns
                      if c.name not in ("embedding", "dedupe_key", "emotion_by", "updated_at"))


def views_and_evidence(session: Session, team_id: str, shown: Sequence[int],
                       matched: Sequence[int]) -> tuple[dict[int, QuoteView], list[Evidence]]:
    """The quotes a search may show (``quotes.views``) and the evidence of every matching
    one (:func:`evidence`) in one round trip (one per :data:`CHUNK` ids): a single SELECT
    of both id lists, with each shown row's revision count as a correlated subquery."""
    wanted = list(dict.fromkeys([*shown, *matched]))
    shown_set, matched_set = set(shown), set(matched)
    counted = (select(func.count()).where(QuoteRevision.quote_id == Quote.id)
               .correlate(Quote).scalar_subquery())
    # revisions are counted for the shown rows only (CASE skips the subquery for the rest)
    revisions = case((Quote.id.in_(padded(shown_set) or [-1]), counted),
                     else_=0).label("revision_count")
    views: dict[int, QuoteView] = {}
    found: list[Evidence] = []
    for chunk in padded_chunks(wanted, CHUNK):
        for r in session.execute(select(*_VIEW_COLUMNS, revisions).where(
                Quote.team_id == team_id, Quote.id.in_(chunk))):
            if r.id in shown_set:
                views[r.id] = view(r, r.revision_count)
            if r.id in matched_set:
                found.append(_evidence(r))
    return views, found


def captures_of(session: Session, team_id: str, voices: Sequence[int]) -> dict[int, int]:
    """Every capture of the given voices (first captures' ids) in ``team_id``:
    ``{quote id: voice}``, the voice being the first capture's id."""
    if not voices:
        return {}
    # Two index look-ups (primary key, then voice_id) rather than one OR, which SQLite
    # plans as a walk over the whole team (bench/PERF.md); the team is checked per row.
    cols = (Quote.id, Quote.voice_id, Quote.team_id)
    wanted = padded(dict.fromkeys(voices))
    rows = {r.id: r for r in session.execute(select(*cols).where(Quote.id.in_(wanted)))}
    rows.update({r.id: r for r in session.execute(
        select(*cols).where(Quote.voice_id.in_(wanted)))})
    return {r.id: r.voice_id or r.id for r in rows.values() if r.team_id == team_id}
