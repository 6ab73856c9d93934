"""A filtered search that finds nothing says the filter is why (Slack over HTTP, and the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.query import parse_query
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder
from tests.slack_harness import Bot, assert_valid_message

EXPORT = ["The CSV export times out on big boards", "CSV export times out every Monday",
          "How do I get the CSV export to include archived rows?"]
SECRET_WORDS = "CSV export times out and we will churn, says the board"


def seed(bot: Bot) -> None:
    bot.services.imports.import_quotes(
        [(i, NewQuote(team_id="T0001", text=t, speaker_name=f"S{i}", company=f"Co {i}",
                      emotion="confused" if t.startswith("How") else None))
         for i, t in enumerate(EXPORT)]
        + [(9, NewQuote(team_id="T0001", text=SECRET_WORDS, speaker_name="Vip",
                        channel_id="CPRIV", is_private=True, emotion="frustrated"))])


def answer(bot: Bot, text: str) -> str:
    resp, hook = bot.command(text)
    assert resp.status == 200
    (reply,) = bot.responses(hook)
    assert_valid_message(reply)
    return json.dumps(reply, ensure_ascii=False)


def test_voice_says_the_emotion_filter_is_why_nothing_matched(bot: Bot) -> None:
    seed(bot)
    visible = bot.services.search.search("T0001", parse_query("csv export times out"),
                                         channel_id="C1").breadth.matches
    assert visible >= 1
    text = answer(bot, "emotion:frustrated csv export times out")
    # the only frustrated quote is in a private channel: not found here, and not counted
    quotes = f"{visible} quote{'s' if visible != 1 else ''}"
    assert (f"No quotes tagged frustrated about \u201ccsv export times out\u201d; {quotes} "
            "about it without that emotion.") in text
    assert "No user quotes about" not in text and "churn" not in text
    text = answer(bot, "emotion:frustrated emotion:disappointed csv export times out")
    assert "tagged frustrated or disappointed" in text and "without those emotions" in text
    text = answer(bot, "emotion:confused csv export")  # a match: the quote is shown
    assert "archived rows" in text and "without that emotion" not in text


def test_other_filters_and_hostile_topics(bot: Bot) -> None:
    text = answer(bot, "emotion:frustrated csv export")  # nothing stored about it at all
    assert "No user quotes about" in text and "without that emotion" not in text
    seed(bot)
    text = answer(bot, 'company:"Nobody Inc" emotion:frustrated csv export times out')
    assert "match company: Nobody Inc; emotion: frustrated;" in text
    assert "about it without those filters." in text
    text = answer(bot, "emotion:frustrated <!channel> csv export times out")
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_cli_search_says_the_emotion_filter_is_why(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    path = tmp_path / "q.csv"
    path.write_text("text,speaker\n" + "".join(f"{t.replace(',', '')},S{i}\n"
                                               for i, t in enumerate(EXPORT)))
    embedder = HashingEmbedder()
    assert main(["search", "emotion:frustrated", "csv", "export", "--team", "T1"],
                embedder=embedder) == 0  # nothing stored yet: no count to give
    assert "No quotes found with these filters." in capsys.readouterr().out
    assert main(["import", str(path), "--team", "T1"], embedder=embedder) == 0
    capsys.readouterr()
    assert main(["search", "emotion:frustrated", "csv", "export", "times", "out"],
                embedder=embedder) == 0
    out = capsys.readouterr().out
    assert "No quotes tagged frustrated about \u201ccsv export times out\u201d; " in out
    assert "about it without that emotion." in out and "(no quotes found)" not in out
