"""An import stores its batches in order while it encodes the next one: what it reports, what
it keeps when a batch fails, and that concurrent storing changes nothing stored."""

from __future__ import annotations

import pytest

from store.queries import new_quotes
from store.queries.quotes import NewQuote


def rows(n: int, team: str = "T1") -> list[tuple[int, NewQuote]]:
    return [(i + 2, NewQuote(team_id=team, text=f"Export number {i} times out on big boards",
                             speaker_name=f"Customer {i}")) for i in range(n)]


def stored_texts(services, team: str = "T1") -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from store.models import Quote

    with services.sessions() as session:
        return list(session.scalars(select(Quote.text).where(Quote.team_id == team)
                                    .order_by(Quote.id)))


def test_batches_are_stored_in_order_and_reported_once_stored(services) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int]] = []

    def progress(n: int) -> None:
        seen.append((n, len(stored_texts(services))))

    summary = services.imports.import_quotes(rows(7), batch_size=3, progress=progress)
    assert summary.added == 7
    assert seen == [(3, 3), (3, 6), (1, 7)]  # each batch reported after it is committed
    assert stored_texts(services) == [f"Export number {i} times out on big boards"
                                      for i in range(7)]  # ids in the file's order
    index = services.indexes.get("T1")
    assert len(index) == 7


def test_a_failing_batch_stops_the_import_and_keeps_the_ones_before(
        services, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    real = new_quotes.add_many
    calls = []

    def flaky(session, batch):  # type: ignore[no-untyped-def]
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(session, batch)

    monkeypatch.setattr(new_quotes, "add_many", flaky)
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="disk full"):
        services.imports.import_quotes(rows(9), batch_size=3, progress=seen.append)
    assert calls == [3, 3]  # the third batch was never stored
    assert seen == [3]
    assert stored_texts(services) == [f"Export number {i} times out on big boards"
                                      for i in range(3)]
    monkeypatch.setattr(new_quotes, "add_many", real)
    again = services.imports.import_quotes(rows(9), batch_size=3)  # a rerun resumes
    assert (again.added, again.unchanged) == (6, 3)
    assert len(stored_texts(services)) == 9
