"""Property-based tests: whatever people type or Slack (or an attacker) sends, nothing
crashes and nothing is half-written."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from sqlalchemy import func, select

from bot.core.importing import ImportFileError, parse_file
from bot.core.imports import RowProblem
from bot.core.query import parse_query, topic_problem
from bot.core.search import SearchResult
from bot.slack.views.blocks import Target, search_reply
from store.models import Quote
from store.queries.quotes import NewQuote
from tests.fakes import signing
from tests.slack_harness import Bot, assert_valid_message

FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
                      deadline=None, max_examples=30)
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


@given(words)
def test_any_topic_parses_and_renders(text: str) -> None:
    query = parse_query(text)
    topic_problem(query.topic)
    _, blocks = search_reply(SearchResult(query=query), Target("C1"))
    for block in blocks:
        Block.parse(block).validate_json()


@given(st.lists(st.tuples(words.filter(lambda t: t.strip() and "\x00" not in t),
                          st.text(max_size=40)), min_size=1, max_size=20))
def test_csv_round_trips_exact_words(tmp_path_factory, rows) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("csv") / "q.csv"
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(["text", "speaker"])
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    parsed = parse_file(path, team_id="T1")
    quotes = [q for _, q in parsed.rows if isinstance(q, NewQuote)]
    assert [q.text for q in quotes] == [t for t, _ in rows]


@given(st.binary(max_size=2000), st.sampled_from(["x.csv", "x.jsonl"]))
@settings(deadline=None)
def test_arbitrary_files_never_crash_the_parser(tmp_path_factory, data: bytes, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("bin") / name
    path.write_bytes(data)
    try:
        parsed = parse_file(path, team_id="T1")
    except ImportFileError as exc:
        assert str(exc)
        return
    for line, item in parsed.rows:
        assert line >= 1 and isinstance(item, (NewQuote, RowProblem))


@FIXTURE_OK
@given(st.lists(st.one_of(words, st.just(""), st.just(" "),
                          st.integers(40_001, 40_010).map(lambda n: "x" * n)),
                max_size=12))
def test_imports_write_exactly_what_they_report(services, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    with services.sessions() as s:
        before = s.scalar(select(func.count()).select_from(Quote))
    rows = [(i, NewQuote(team_id="T1", text=t)) for i, t in enumerate(texts)]
    try:
        summary = services.imports.import_quotes(rows)
    except Exception as exc:  # pragma: no cover - the property is that this never happens
        raise AssertionError(f"import raised {exc!r}") from exc
    with services.sessions() as s:
        after = s.scalar(select(func.count()).select_from(Quote))
    assert after - before == summary.added
    assert summary.added + summary.duplicates + len(summary.rejected) == len(texts)


@FIXTURE_OK
@given(words)
def test_any_voice_text_gets_an_answer(bot: Bot, text: str) -> None:
    resp, hook = bot.command(text)
    assert resp.status == 200
    if resp.text:
        assert_valid_message(resp.json())
    else:
        (reply,) = bot.responses(hook)
        assert_valid_message(reply)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | words,
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=20)


@FIXTURE_OK
@given(st.dictionaries(st.sampled_from(["type", "user", "reaction", "item", "channel", "ts",
                                        "text", "message", "subtype", "deleted_ts", "tab"]),
                       json_values, max_size=8),
       st.sampled_from(["reaction_added", "app_mention", "message", "app_home_opened",
                        "app_uninstalled", None]))
def test_malformed_events_never_crash(bot: Bot, event: dict, kind: str | None) -> None:
    if kind:
        event["type"] = kind
    resp = bot.event(event)
    assert resp.status in (200, 400, 404) or resp.text == "replayed request"
    with urllib.request.urlopen(bot.url + "/healthz") as health:  # still serving
        assert health.status == 200


@FIXTURE_OK
@given(st.dictionaries(st.sampled_from(["type", "actions", "view", "callback_id", "trigger_id",
                                        "message", "user", "team", "response_url"]),
                       json_values, max_size=8),
       st.sampled_from(["block_actions", "view_submission", "message_action", "shortcut"]))
def test_malformed_interactions_never_crash(bot: Bot, payload: dict, kind: str) -> None:
    payload["type"] = kind
    payload.setdefault("team", {"id": "T0001"})
    resp = bot.send(signing.interactive(payload))
    replayed = resp.status == 401 and resp.text in (  # hypothesis repeats, or forges a team
        "replayed request", "voicebot is not installed in that workspace")
    assert resp.status in (200, 400, 404) or replayed
    with bot.services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Quote)) == 0


def test_json_body_that_is_not_an_object(bot: Bot, tmp_path: Path) -> None:
    for body in ("[]", "null", "42", json.dumps("text")):
        assert bot.send((body, "application/json")).status in (400, 401, 404)
