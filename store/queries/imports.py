"""Recorded imports: one row per run (:class:`ImportView` out), the quotes a run added
(``quotes.import_id``) and the stored quotes it updated instead (``import_updates``, with
their attribution before), and what a re-import matches rows against.

Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store.models import ImportRecord, ImportUpdate, Quote, utcnow
from store.queries.id_lists import one_of
from store.queries.quotes import QuoteView, view

#: The attribution a re-import may change on a stored quote (never its words' privacy:
#: private origin, channel, shareable stay as they are).
ATTRIBUTION = ("speaker_name", "company", "segment", "source_kind", "source_url", "said_at",
               "tags")


@dataclass(frozen=True)
class ImportView:
    id: int
    team_id: str
    kind: str
    file_name: str
    run_by: str
    started_at: datetime
    finished_at: datetime | None
    added: int
    updated: int
    unchanged: int
    rejected: int
    undone_at: datetime | None
    undone_by: str | None
    present: int = 0  # quotes it added that are still stored


@dataclass(frozen=True)
class Stored:
    """A stored quote a re-imported row may be: its words, attribution and origin file."""

    id: int
    dedupe_key: str
    text: str
    attribution: dict[str, object]
    file_name: str | None


def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def begin(session: Session, *, team_id: str, kind: str, file_name: str, run_by: str,
          at: datetime) -> int:
    record = ImportRecord(team_id=team_id, kind=kind, file_name=file_name[:255],
                          run_by=run_by[:64], started_at=at, added=0, updated=0, unchanged=0,
                          rejected=0)
    session.add(record)
    session.flush()
    return record.id


def finish(session: Session, import_id: int, *, added: int, updated: int, unchanged: int,
           rejected: int, at: datetime) -> None:
    session.execute(update(ImportRecord).where(ImportRecord.id == import_id).values(
        added=added, updated=updated, unchanged=unchanged, rejected=rejected, finished_at=at))


def _view(record: ImportRecord, present: int) -> ImportView:
    return ImportView(
        id=record.id, team_id=record.team_id, kind=record.kind, file_name=record.file_name,
        run_by=record.run_by, started_at=cast(datetime, _aware(record.started_at)),
        finished_at=_aware(record.finished_at), added=record.added, updated=record.updated,
        unchanged=record.unchanged, rejected=record.rejected,
        undone_at=_aware(record.undone_at), undone_by=record.undone_by, present=present)


def listing(session: Session, team_id: str | None = None, *,
            limit: int = 100) -> list[ImportView]:
    """The latest imports first (of ``team_id`` when given)."""
    stmt = select(ImportRecord).order_by(ImportRecord.id.desc()).limit(limit)
    if team_id is not None:
        stmt = stmt.where(ImportRecord.team_id == team_id)
    records = list(session.scalars(stmt))
    counts = dict(session.execute(
        select(Quote.import_id, func.count()).where(
            Quote.import_id.in_([r.id for r in records])).group_by(Quote.import_id)).all())
    return [_view(r, int(counts.get(r.id, 0))) for r in records]


def get(session: Session, import_id: int) -> ImportView | None:
    record = session.get(ImportRecord, import_id)
    if record is None:
        return None
    return _view(record, len(added_ids(session, import_id)))


def added_ids(session: Session, import_id: int) -> list[int]:
    """The quotes this import added that are still stored."""
    return list(session.scalars(select(Quote.id).where(Quote.import_id == import_id)
                                .order_by(Quote.id)))


def updated_count(session: Session, import_id: int) -> int:
    """How many stored quotes this import updated."""
    return int(session.scalar(select(func.count()).select_from(ImportUpdate).where(
        ImportUpdate.import_id == import_id)) or 0)


def mark_undone(session: Session, import_id: int, *, by: str, at: datetime) -> None:
    session.execute(update(ImportRecord).where(ImportRecord.id == import_id).values(
        undone_at=at, undone_by=by[:64]))


def _attribution(quote: Quote) -> dict[str, object]:
    return {"speaker_name": quote.speaker_name, "company": quote.company,
            "segment": quote.segment, "source_kind": quote.source_kind,
            "source_url": quote.source_url, "said_at": _aware(quote.said_at),
            "tags": list(quote.tags or [])}


def _stored(session: Session, team_id: str, clauses: list[Any]) -> list[Stored]:
    rows = session.execute(
        select(Quote, ImportRecord.file_name)
        .outerjoin(ImportRecord, ImportRecord.id == Quote.import_id)
        .where(Quote.team_id == team_id, *clauses).order_by(Quote.id)).all()
    return [Stored(q.id, q.dedupe_key, q.text, _attribution(q), name) for q, name in rows]


def by_keys(session: Session, team_id: str, keys: Sequence[str]) -> dict[str, Stored]:
    """Stored quotes by re-import key (``dedupe_key``)."""
    out: dict[str, Stored] = {}
    for start in range(0, len(keys), 500):
        for s in _stored(session, team_id, [one_of(session, Quote.dedupe_key,
                                                   keys[start:start + 500])]):
            out[s.dedupe_key] = s
    return out


def by_words(session: Session, team_id: str, texts: Sequence[str]) -> dict[str, list[Stored]]:
    """Quotes keyed by their content (imported rows without a stable id, not Slack
    messages or transcript passages) whose words are one of ``texts``, oldest first."""
    out: dict[str, list[Stored]] = {}
    unique = list(dict.fromkeys(texts))
    for start in range(0, len(unique), 200):
        for s in _stored(session, team_id, [one_of(session, Quote.text,
                                                   unique[start:start + 200]),
                                            Quote.dedupe_key.startswith("sha256:")]):
            out.setdefault(s.text, []).append(s)
    return out


def set_attribution(session: Session, team_id: str, quote_id: int, values: dict[str, object],
                    *, key: str, import_id: int | None) -> None:
    """Give a stored quote the attribution of a re-imported row (and its re-import key);
    with ``import_id``, remember the attribution before so undoing that import restores it."""
    quote = session.get(Quote, quote_id)
    if quote is None or quote.team_id != team_id:
        return
    if import_id is not None:
        before = {k: (v.isoformat() if isinstance(v, datetime) else v)
                  for k, v in _attribution(quote).items()}
        before["dedupe_key"] = quote.dedupe_key
        session.add(ImportUpdate(import_id=import_id, quote_id=quote_id, previous=before,
                                 key_after=key))
    for column, value in values.items():
        setattr(quote, column, value)
    quote.dedupe_key = key
    quote.updated_at = utcnow()
    session.flush()


def restore_updates(session: Session, team_id: str, import_id: int) -> tuple[int, int]:
    """Put back the attribution of the quotes ``import_id`` updated, unless they changed
    again since (then they are left as they are). Returns (restored, left)."""
    restored = left = 0
    for change in session.scalars(select(ImportUpdate).where(
            ImportUpdate.import_id == import_id).order_by(ImportUpdate.id.desc())):
        quote = session.get(Quote, change.quote_id)
        if quote is None or quote.team_id != team_id:
            continue
        if quote.dedupe_key != change.key_after:
            left += 1
            continue
        previous = dict(change.previous)
        taken = session.scalar(select(Quote.id).where(
            Quote.team_id == team_id, Quote.dedupe_key == previous["dedupe_key"],
            Quote.id != quote.id))
        if taken is not None:  # another quote holds that key now: leave this one
            left += 1
            continue
        said = previous.get("said_at")
        previous["said_at"] = datetime.fromisoformat(said) if isinstance(said, str) else None
        for column, value in previous.items():
            setattr(quote, column, value)
        quote.updated_at = utcnow()
        restored += 1
    session.flush()
    return restored, left



def export_page(session: Session, team_id: str, after_id: int,
                limit: int) -> list[tuple[QuoteView, str]]:
    """Quotes of ``team_id`` with id above ``after_id``, in id order, with their re-import
    key, for an export streamed page by page."""
    rows = session.scalars(select(Quote).where(Quote.team_id == team_id, Quote.id > after_id)
                           .order_by(Quote.id).limit(limit))
    return [(view(q), q.dedupe_key) for q in rows]
