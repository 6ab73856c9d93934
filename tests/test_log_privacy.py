"""Logs at every level keep quote text and Slack tokens out, even at DEBUG where slack-sdk
and slack-bolt log request and response bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import configure_logging
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import TOKEN, serve_bot
from tests.test_workspaces_e2e import capture, install

QUOTE = "Our auditors reject every PDF export with the purple watermark"


@pytest.fixture
def debug_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG")
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.parametrize("as_json", [False, True])
def test_debug_logs_of_capture_voice_and_share_hold_no_quote_or_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], debug_logging: None,
        as_json: bool) -> None:
    configure_logging("DEBUG", as_json)
    with FakeSlack() as slack:
        slack.add_user("U1", "Ana Teammate")
        slack.add_user("UCUST", "Casey Customer", team_id="T0001")
        slack.add_channel("C1", "general")
        with serve_bot(tmp_path, slack) as bot:
            ts = slack.add_message("C1", QUOTE, user="UCUST")
            bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
            slack.wait_for("chat.postEphemeral")
            _, hook = bot.command("purple watermark pdf")
            (reply,) = bot.responses(hook)
            assert QUOTE in json.dumps(reply)  # the quote did reach Slack
            share = next(b for b in reply["blocks"] if b["type"] == "actions")["elements"][0]
            bot.send(signing.block_actions("voice_share", share["value"], response_url=hook))
            (post,) = slack.wait_for("chat.postMessage")
            assert "purple watermark" in json.dumps(post.params)
    logged = capsys.readouterr().err
    assert "Sending a request" in logged  # slack-sdk did log at DEBUG ...
    assert "purple" not in logged and "watermark" not in logged  # ... without the words
    assert TOKEN not in logged and "xoxb-" not in logged


def test_debug_logs_of_an_oauth_install_and_token_refresh_hold_no_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], debug_logging: None) -> None:
    with FakeSlack() as slack:
        slack.tokens.clear()
        slack.token_lifetime = 60  # refresh tokens too, and a refresh before first use
        slack.add_user("UA", "Alice at A")
        slack.add_channel("CA", "a-general")
        with serve_bot(tmp_path, slack, slack_bot_token=None, slack_client_id=slack.client_id,
                       slack_client_secret=slack.client_secret) as bot:
            install(bot, "TA")
            capture(bot, "TA", "CA", QUOTE, "UA")
        issued = list(slack.token_teams) + list(slack.refresh_tokens)
    logged = capsys.readouterr().err
    assert "oauth.v2.access" in logged and len(issued) >= 3
    assert not [t for t in issued if t in logged]
    assert "xoxb-T" not in logged and "xoxe-1-" not in logged
    assert "purple" not in logged and slack.client_secret not in logged


def test_tokens_and_sql_parameters_are_masked_in_messages_fields_and_tracebacks(
        capsys: pytest.CaptureFixture[str], debug_logging: None, services) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    from store.models import Quote

    log = logging.getLogger("voicebot.anything")
    log.warning("token %s in a message", "xoxe.xoxp-1-AAAA-BBBB",
                extra={"detail": "refresh xoxe-1-CCCC and app xapp-1-DDDD"})
    with services.sessions.begin() as session:
        session.add(Quote(team_id="T1", text=QUOTE, dedupe_key="k", source_kind="other"))
    try:
        with services.sessions.begin() as session:  # the same key again: an IntegrityError
            session.add(Quote(team_id="T1", text=QUOTE, dedupe_key="k", source_kind="other"))
    except IntegrityError:
        log.exception("insert failed")
    logged = capsys.readouterr().err
    assert "insert failed" in logged and "IntegrityError" in logged
    assert "purple" not in logged and "[parameters: not logged]" in logged
    for secret in ("AAAA", "BBBB", "CCCC", "DDDD"):
        assert secret not in logged
    assert "xoxe.xoxp-[redacted]" in logged and "xapp-[redacted]" in logged
