"""bot/core/substance.py: which customer messages listening keeps (measured rule)."""

from __future__ import annotations

import pytest

from bench.listen_filter import DATA, HELD_OUT, load, pick, score
from bot.core.substance import MIN_WORDS, has_content, substantive_words


@pytest.mark.parametrize("text", [
    "Hi team!", "thanks so much :pray:", ":+1: :tada:", "👍🙏", "Any update?",
    "<@U02AB3CD4> ^", "Welcome <@U09NEW001>! :wave:", "", "   ", "ok", "+1",
    "<https://status.example.com|status page>"])
def test_content_free_messages_are_skipped(text: str) -> None:
    assert not has_content(text)


@pytest.mark.parametrize("text", [
    "Still seeing 502s on the dashboard", "Login loop on Edge", "SSO is broken again",
    "Thanks, but that workaround doesn't work for us because we use SAML",
    "Export fails for files over 10MB :sob:", "Die Übersetzung im Menü ist abgeschnitten"])
def test_messages_with_something_to_say_are_kept(text: str) -> None:
    assert has_content(text)


def test_markup_emoji_and_punctuation_are_not_words() -> None:
    assert substantive_words("<@U1> <#C1|general> <!here> :sob: 🎉 ... Export fails!") == \
        ["export", "fails"]


def test_the_shipped_threshold_is_the_one_the_bench_picks() -> None:
    """The labelled set decides MIN_WORDS (bench/listen_filter.py); keep them in step."""
    data = load(DATA)
    assert len(data) >= 150 and {label for label, _ in data} == {True, False}
    assert pick([score("words", n, data) for n in range(1, 7)]).threshold == MIN_WORDS
    assert len(load(HELD_OUT)) >= 40
