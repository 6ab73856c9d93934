"""Finding one person's traces in the quotes, for deletion requests (``voicebot forget``).

A person can be named in several places: as the speaker (name or Slack user id), as the
teammate who relayed a quote, in the company or segment field, or in a tag
(imports keep unknown columns as ``column=value`` tags, so ``Interviewee=Dana Lee``).
Names compare with :func:`store.queries.quotes.normalize_key` (case, Unicode form and spacing do
not matter). Words inside a quote's text are not matched automatically: a name there may be
someone else's mention, so those are counted for a person to review instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from store.models import Quote
from store.policy import normalize_key

#: The fields that say who a quote is from or who handled it, matched by name or id.
NAME_FIELDS = ("speaker_name", "relayed_by", "company", "segment")
#: ``captured_by`` is not here: a teammate who captured a customer's words is not the person
#: those words belong to, and forgetting the teammate must not erase the customer's quote.
ID_FIELDS = ("speaker_user_id",)


@dataclass(frozen=True)
class PersonMatch:
    """A quote that names the person, and where (never the quote's words)."""

    id: int
    when: datetime
    source_kind: str
    fields: tuple[str, ...]  # e.g. ("speaker_name",), ("tag Interviewee",)


@dataclass(frozen=True)
class PersonReport:
    """What a deletion request would remove, and what it cannot match by itself."""

    matches: tuple[PersonMatch, ...]
    text_mentions: int  # other quotes whose words contain the name


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _tag_match(tag: str, key: str) -> str | None:
    if normalize_key(tag) == key:
        return "tag"
    name, sep, value = tag.partition("=")
    if sep and normalize_key(value) == key:
        return f"tag {name.strip()}"
    return None


def _rows(session: Session, team_id: str,
          columns: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
          batch: int = 2000) -> Iterator[Row[Any]]:
    last = 0
    while True:
        rows = session.execute(select(Quote.id, *columns).where(
            Quote.team_id == team_id, Quote.id > last).order_by(Quote.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def find_person(session: Session, team_id: str, who: str) -> list[PersonMatch]:
    """Quotes of ``team_id`` that name ``who`` (a name or a Slack user id) in an
    attribution field or a tag, oldest id first."""
    key = normalize_key(who)
    if not key:
        return []
    exact_id = who.strip()
    columns = [getattr(Quote, f) for f in NAME_FIELDS + ID_FIELDS] + [
        Quote.tags, Quote.said_at, Quote.captured_at, Quote.source_kind]
    found = []
    for row in _rows(session, team_id, columns):
        fields = [f for f in NAME_FIELDS if (v := getattr(row, f)) and normalize_key(v) == key]
        fields += [f for f in ID_FIELDS if getattr(row, f) == exact_id]
        fields += [m for t in (row.tags or ()) if isinstance(t, str)
                   and (m := _tag_match(t, key))]
        if fields:
            found.append(PersonMatch(id=row.id, when=_aware(row.said_at or row.captured_at),
                                     source_kind=row.source_kind,
                                     fields=tuple(dict.fromkeys(fields))))
    return found


def text_contains(session: Session, team_id: str, needle: str) -> list[int]:
    """Ids of quotes whose text contains ``needle`` literally, ignoring case, Unicode form
    and runs of spaces; newest first."""
    key = normalize_key(needle)
    if not key:
        return []
    when = func.coalesce(Quote.said_at, Quote.captured_at)
    hits = []
    for row in _rows(session, team_id, [Quote.text, when.label("when")]):
        if key in normalize_key(row.text):
            hits.append((_aware(row.when), row.id))
    return [i for _, i in sorted(hits, reverse=True)]
