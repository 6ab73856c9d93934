"""A topic search reads the quotes it shows and the evidence behind its count (breadth) in
one database round trip, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.core.query import parse_query
from bot.core.search import SearchService
from store.queries.quotes import NewQuote


def test_shown_quotes_and_their_breadth_come_in_one_round_trip(services) -> None:  # type: ignore[no-untyped-def]
    for n in range(30):
        services.capture.save(NewQuote(
            team_id="T1", text=f"The export button is impossible to find, take {n}",
            speaker_name=f"Dana {n % 7}", company=f"Acme {n % 3}"))
    services.capture.save(NewQuote(team_id="T2", text="The export button is impossible to find",
                                   speaker_name="Other team"))
    services.capture.save(NewQuote(team_id="T1", text="Export button impossible to find",
                                   channel_id="C1", message_ts="1.1", speaker_name="Eli"))
    edited = services.edits.edit_message("T1", "C1", "1.1",
                                         "Export button impossible to find, truly")
    assert edited is not None and edited.revisions == 1
    statements: dict[str, list[str]] = {}
    current: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if current:
            statements.setdefault(current[-1], []).append(sql)

    @contextmanager
    def timer(stage: str) -> Iterator[None]:
        current.append(stage)
        try:
            yield
        finally:
            current.pop()

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        result = SearchService(services.sessions, services.embedder, services.indexes,
                               timer=timer).search("T1", parse_query("export button impossible"))
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    assert len(statements["views"]) == 1, statements["views"]
    assert "breadth" not in statements  # counted from the rows read in "views"
    assert result.hits and all(h.quote.team_id == "T1" for h in result.hits)
    shown = {h.quote.id: h.quote.revisions for h in result.hits}
    assert shown.get(edited.id) == 1  # an edited quote still shows that it was edited
    assert set(shown.values()) <= {0, 1}
    assert result.breadth.matches >= 1 and result.breadth.people <= 8
    assert result.breadth.companies <= 3


def test_the_private_quotes_a_channel_may_not_see_are_found_by_index(services) -> None:  # type: ignore[no-untyped-def]
    """The look-up that runs before every /voice answer in a channel (store.policy.
    hidden_clause) reads ix_quotes_team_id_private, not every quote of the team: at 10k
    quotes the scan took 10 ms of each answer."""
    from sqlalchemy import select, text

    from store.models import Quote
    from store.policy import hidden_clause
    from store.queries.quotes import hidden_ids

    secret = services.capture.save(NewQuote(team_id="T1", text="Private words", channel_id="G1",
                                            message_ts="1.1", is_private=True))
    services.capture.save(NewQuote(team_id="T1", text="Public words", channel_id="C1",
                                   message_ts="1.2"))
    with services.sessions() as session:
        assert hidden_ids(session, "T1", "C1") == {secret.quote.id}
        assert hidden_ids(session, "T1", "G1") == set()
        stmt = select(Quote.id).where(Quote.team_id == "T1", hidden_clause("C1"))
        sql = str(stmt.compile(session.bind, compile_kwargs={"literal_binds": True}))
        if session.bind.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        else:  # the planner needs a team of some size (and its statistics) to choose
            cols = [c.name for c in Quote.__table__.columns if c.name != "id"]
            copy = ", ".join("'m' || g" if c == "message_ts" else
                             "'k' || g" if c == "dedupe_key" else c for c in cols)
            session.execute(text(f"INSERT INTO quotes ({', '.join(cols)}) SELECT {copy} "
                                 "FROM quotes, generate_series(1, 3000) AS g "
                                 "WHERE message_ts = '1.2'"))
            session.execute(text("ANALYZE quotes"))
            plan = " ".join(str(r) for r in session.execute(text("EXPLAIN " + sql)))
            session.rollback()
    assert "ix_quotes_team_id_private" in plan, plan
