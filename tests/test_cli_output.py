"""What `voicebot search` prints: each quote's visibility in --json, and quote text that
cannot drive the terminal in plain output."""

from __future__ import annotations

import json

import pytest

from bot.cli.main import main
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder

ESC = "\x1b"


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch, make_services):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    services = make_services(database_url)
    yield services
    services.close()


def test_search_json_says_where_each_quote_may_be_seen(cli_db, capsys) -> None:  # type: ignore[no-untyped-def]
    private = cli_db.capture.save(NewQuote(
        team_id="T1", text="Invoice export to SAP breaks every month", channel_id="CPRIV",
        message_ts="1.1", is_private=True)).quote.id
    public = cli_db.capture.save(NewQuote(
        team_id="T1", text="Invoice export to SAP is too slow", channel_id="C1",
        message_ts="1.2")).quote.id
    imported = cli_db.capture.save(NewQuote(team_id="T1",
                                            text="Invoice export is missing")).quote.id
    assert run("search", "invoice export", "--json") == 0
    seen = {h["id"]: h["visibility"] for h in json.loads(capsys.readouterr().out)}
    assert seen == {
        private: {"private_origin": True, "channel": "CPRIV", "shareable": False},
        public: {"private_origin": False, "channel": "C1", "shareable": False},
        imported: {"private_origin": False, "channel": None, "shareable": False}}
    cli_db.edits.update_details("T1", private, shareable=True)
    assert run("search", "--text", "breaks every month", "--json") == 0
    (hit,) = json.loads(capsys.readouterr().out)
    assert hit["visibility"] == {"private_origin": True, "channel": "CPRIV", "shareable": True}


@pytest.mark.parametrize("mode", [["invoice", "export"], ["--text", "invoice"]])
def test_plain_output_shows_control_sequences_instead_of_sending_them(
        cli_db, capsys, mode: list[str]) -> None:  # type: ignore[no-untyped-def]
    cli_db.capture.save(NewQuote(
        team_id="T1", text="Invoice export\x1b[2J\x1b]0;owned\x07\x9b31m\rok\u202e",
        speaker_name=f"Eve{ESC}[8m", company="Acme\x1b]8;;http://evil\x1b\\",
        relayed_by="Mal\x08\x08", first_hand=False, source_url="https://x.test/\x1b[1A"))
    assert run("search", *mode) == 0
    out = capsys.readouterr().out
    controls = [c for c in out if (ord(c) < 32 and c not in "\n") or 0x7f <= ord(c) <= 0x9f
                or c == "\u202e"]
    assert controls == []
    assert "Invoice export\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x0dok\\u202e" in out
    assert "Eve\\x1b[8m, Acme\\x1b]8;;http://evil\\x1b\\" in out
    assert "relayed by Mal\\x08\\x08" in out and "https://x.test/\\x1b[1A" in out
