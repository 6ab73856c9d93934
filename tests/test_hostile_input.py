"""Hostile or odd input gets a clear answer, never a false outage or an unhandled request:
oversized and countless filters, control characters, and button values that cannot be ids."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core import query as query_module
from bot.core.query import Query, parse_query
from store.errors import QueryFailed
from store.queries.quotes import Filters, NewQuote
from store.retrieval.embeddings import HashingEmbedder
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import Bot, serve_bot

OUTAGE = "can't reach my database"


@pytest.fixture
def any_bot(tmp_path: Path, database_url: str) -> Iterator[Bot]:
    """The bot served over HTTP on SQLite and on PostgreSQL."""
    with FakeSlack() as slack, serve_bot(tmp_path, slack, database_url=database_url) as bot:
        slack.add_user("U1", "Ana Teammate")
        slack.add_channel("C1", "general")
        bot.services.capture.save(NewQuote(team_id="T0001", text="Onboarding took us a month",
                                          speaker_name="Ana", company="Acme"))
        yield bot


def answer(bot: Bot, text: str) -> str:
    """Everything the bot said to a `/voice` command: the ack and any later reply."""
    resp, hook = bot.command(text)
    assert resp.status == 200
    said = resp.text
    if resp.text in ("", "{}"):
        said += json.dumps(bot.responses(hook))
    return said


# ---- 3. filters limited up front; database refusals are not outages -------------------------
def test_oversized_filters_get_a_clear_answer_not_a_database_outage(any_bot: Bot) -> None:
    said = answer(any_bot, "speaker:" + "d" * 100_000 + " onboarding")
    assert "at most 200" in said and OUTAGE not in said and len(said) < 4000
    said = answer(any_bot, " ".join(f"company:c{i}" for i in range(5000)) + " onboarding")
    assert "5,000 filters" in said and "at most 20" in said and OUTAGE not in said


def test_control_characters_in_a_search_are_dropped(any_bot: Bot) -> None:
    said = answer(any_bot, "speaker:An\x00a company:Ac\x01me onboarding\x00")
    assert "Onboarding took us a month" in said
    assert "went wrong" not in said and OUTAGE not in said


def test_thousands_of_mistyped_filters_get_a_short_reply(any_bot: Bot) -> None:
    keys = ["segment" + "".join(p) for p in product(string.ascii_lowercase, repeat=3)]
    said = answer(any_bot, " ".join(f"{k}:x" for k in keys[:20_000]))
    assert "more problems" in said and len(said) < 8000


def test_database_refusing_a_query_is_not_reported_as_an_outage(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite raises OperationalError for a statement that is only too complex; the database
    still answers, so it is a refused query, told as such (limits lifted to reach SQL)."""
    monkeypatch.setattr(query_module, "MAX_FILTERS", 100_000)
    with FakeSlack() as slack, serve_bot(tmp_path, slack) as bot:
        said = answer(bot, " ".join(f"company:c{i}" for i in range(5000)) + " onboarding")
        assert "couldn't run that search" in said and OUTAGE not in said
        with pytest.raises(QueryFailed):
            bot.services.search.search("T0001", Query(topic="onboarding", filters=Filters(
                company=tuple(f"c{i}" for i in range(5000)))))


def test_a_value_the_database_cannot_hold_is_a_refused_query(make_services,
                                                              database_url: str) -> None:  # type: ignore[no-untyped-def]
    """A NUL reaching PostgreSQL (or an over-complex LIKE on SQLite) is QueryFailed."""
    services = make_services(database_url)
    services.capture.save(NewQuote(team_id="T1", text="Export is slow", speaker_name="Ana"))
    bad = Query(topic="export", filters=Filters(speaker=("a\x00" + "%_" * 30_000,)))
    with pytest.raises(QueryFailed):  # was DatabaseUnavailable (SQLite) or a raw DataError
        services.search.search("T1", bad)


def test_cli_search_applies_the_same_filter_limits(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    topic = [f"company:c{i}" for i in range(5000)] + ["onboarding"]
    assert main(["search", *topic], embedder=HashingEmbedder()) == 1
    err = capsys.readouterr().err
    assert "at most 20" in err and "unavailable" not in err and len(err) < 2000


def test_parse_query_bounds_its_problems() -> None:
    query = parse_query(" ".join(f"emotion:angry{i}" for i in range(15)))
    assert len(query.problems) == 11 and query.problems[-1].startswith("\u2026and ")


# ---- 4. button values that cannot be quote ids ----------------------------------------------
HUGE = ["99999999999999999999", str(2**31), "-3", "0", "1e3", "12abc"]


@pytest.mark.parametrize("action_id", ["quote_delete", "quote_edit", "voice_full",
                                       "quote_keep"])
def test_buttons_with_impossible_ids_say_they_are_out_of_date(any_bot: Bot,
                                                               action_id: str) -> None:
    for n, value in enumerate(HUGE, start=1):
        hook = any_bot.slack.new_response_url()
        resp = any_bot.send(signing.block_actions(action_id, value, response_url=hook))
        assert resp.status == 200, (value, resp.text)
        (reply,) = any_bot.responses(hook)
        assert "out of date" in reply["text"], (value, reply)
        assert len(any_bot.slack.calls_to("response_url")) == n
    assert any_bot.slack.calls_to("views.open") == []


def test_show_more_and_share_with_impossible_values_say_out_of_date(any_bot: Bot) -> None:
    values = [("voice_more", {"q": "onboarding", "o": 99999999999999999999, "c": "C1"}),
              ("voice_share", {"id": 99999999999999999999, "c": "C1"}),
              ("voice_share", {"id": 2**31, "c": "C1"})]
    for action_id, value in values:
        hook = any_bot.slack.new_response_url()
        resp = any_bot.send(signing.block_actions(action_id, json.dumps(value),
                                                  response_url=hook))
        assert resp.status == 200
        (reply,) = any_bot.responses(hook)
        assert "out of date" in reply["text"], (action_id, reply)
    assert any_bot.slack.calls_to("chat.postMessage") == []


def test_a_flood_of_filters_is_counted_not_checked_one_by_one() -> None:
    """Past MAX_READ_FILTERS `name:value` words the rest are only counted (the reply comes in
    the ack, so parsing must stay cheap), and no filter of such a search is applied."""
    query = query_module.parse_query(" ".join(f"compny:x{i} company:c{i}" for i in range(500))
                                     + " onboarding")
    # 100 company: filters among the 200 words read, and 800 more counted unread.
    assert query.problems[0] == "That search has 900 filters; use at most 20."
    assert query.filters.company == () and query.topic == "onboarding"
    assert query.problems[1:] == ("`compny:` is not a filter. Did you mean `company:`?",)
