"""new_quotes.add_many on SQLite: one executemany, then the ids; the same rows and ids as the
INSERT ... RETURNING it replaces, also when SQLite picks ids at random."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, select

from store.models import Quote
from store.queries import new_quotes
from store.queries import quotes as q
from store.queries.quotes import NewQuote

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def rows(team: str, n: int = 5) -> list[dict[str, object]]:
    return [q.to_row(NewQuote(team_id=team, text=f"Export number {i} times out", tags=("a",),
                              emotion="confused" if i % 2 else None),
                     embedding=None if i == 3 else bytes(range(i, i + 8)), model="m", now=NOW)
            for i in range(n)]


def read(services, ids: list[int]) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    with services.sessions() as session:
        got = {r.id: r for r in session.scalars(select(Quote).where(Quote.id.in_(ids)))}
    skip = {"id", "team_id", "updated_at", "revisions"}
    return [{k: v for k, v in vars(got[i]).items() if not k.startswith("_") and k not in skip}
            for i in ids]


def test_executemany_writes_what_insert_returning_writes(
        sqlite_url: str, make_services, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    services = make_services(sqlite_url)
    with services.sessions.begin() as session:
        fast = new_quotes.add_many(session, rows("TA"))
    monkeypatch.setattr(new_quotes, "_uniform", lambda *a: False)  # INSERT ... RETURNING
    with services.sessions.begin() as session:
        slow = new_quotes.add_many(session, rows("TB"))
    assert fast == [1, 2, 3, 4, 5] and slow == [6, 7, 8, 9, 10]
    assert read(services, fast) == read(services, slow)


def test_ids_follow_the_rows_when_sqlite_picks_them_at_random(
        sqlite_url: str, make_services) -> None:  # type: ignore[no-untyped-def]
    """Once the largest possible id is taken, SQLite gives new rows free ids at random: the
    ids are then read by each row's key."""
    services = make_services(sqlite_url)
    with services.sessions.begin() as session:
        session.execute(insert(Quote).values(id=2**63 - 1, **rows("TZ", 1)[0]))
    with services.sessions.begin() as session:
        ids = new_quotes.add_many(session, rows("TA", 20))
    assert len(set(ids)) == 20
    with services.sessions() as session:
        texts = dict(session.execute(select(Quote.id, Quote.text).where(Quote.id.in_(ids))).all())
    assert [texts[i] for i in ids] == [f"Export number {i} times out" for i in range(20)]
