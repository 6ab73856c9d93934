"""The breadth header adds up for a reader: quotes, people and companies in words."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.core.search import Breadth
from bot.slack.views.blocks import describe_breadth

DAY = datetime(2026, 11, 20, tzinfo=timezone.utc)
LATER = datetime(2026, 11, 24, tzinfo=timezone.utc)


def plain(b: Breadth) -> str:
    return describe_breadth(b, date=lambda d: f"{d:%Y-%m-%d}", bold="")


def test_more_quotes_than_people_reads_quotes_from_people() -> None:
    b = Breadth(matches=12, people=7, companies=4, first=DAY, last=LATER)
    assert plain(b) == "12 matching quotes from 7 people at 4 companies, 2026-11-20 to 2026-11-24"


def test_more_people_than_quotes_leads_with_people_so_it_adds_up() -> None:
    """Linked re-captures: one quote, several speakers. Never "32 quotes from 33 people"."""
    b = Breadth(matches=32, people=33, first=DAY, last=DAY)
    text = plain(b)
    assert text == "33 people, in 32 distinct quotes, on 2026-11-20"
    assert "from 33 people" not in text


def test_people_lead_with_companies_and_singular_quote() -> None:
    b = Breadth(matches=1, people=2, companies=1)
    assert plain(b) == "2 people at 1 company, in 1 distinct quote"


def test_equal_counts_keep_the_quotes_first_wording() -> None:
    assert plain(Breadth(matches=1, people=1)) == "1 matching quote from 1 person"


def test_an_estimate_says_about() -> None:
    b = Breadth(matches=10, people=9, approximate=True)
    assert plain(b) == "about 10 matching quotes from about 9 people"
    b = Breadth(matches=9, people=10, approximate=True)
    assert plain(b) == "about 10 people, in about 9 distinct quotes"


def test_slack_bolds_the_numbers() -> None:
    text = describe_breadth(Breadth(matches=32, people=33, companies=5))
    assert text == "*33 people* at *5 companies*, in *32* distinct quotes"


def test_no_match_says_so() -> None:
    assert plain(Breadth()) == "No stored quote matches closely; these are the nearest."


def test_unknown_people_are_left_out_rather_than_zero() -> None:
    assert plain(Breadth(matches=3)) == "3 matching quotes"


def test_search_header_adds_up_when_one_quote_was_said_by_two_people(services) -> None:  # type: ignore[no-untyped-def]
    """Linked re-captures: the same words from two speakers are one quote and two people."""
    from bot.core.query import parse_query
    from store.models import SourceKind
    from store.queries.quotes import NewQuote

    def said(speaker: str, user: str, channel: str, ts: str) -> NewQuote:
        return NewQuote(team_id="T1", text="The export button is impossible to find",
                        source_kind=SourceKind.SLACK, speaker_name=speaker,
                        speaker_user_id=user, channel_id=channel, message_ts=ts, captured_by="U2")

    first = services.capture.save(said("Dana", "U9", "C1", "1.1")).quote
    again = services.capture.save(said("Eli", "U8", "C2", "2.2")).quote
    assert again.voice_id == first.id
    b = services.search.search("T1", parse_query("export button impossible to find")).breadth
    assert (b.matches, b.people, b.approximate) == (1, 2, True)
    text = plain(b)
    assert text.startswith("2 people, in 1 distinct quote")  # too few for "about"
    assert "from" not in text


def test_too_few_for_about() -> None:
    """"about 1 person" means nothing: small estimated counts are said plainly."""
    assert plain(Breadth(matches=1, people=1, approximate=True)) == \
        "1 matching quote from 1 person"


def test_about_goes_only_before_counts_where_it_means_something() -> None:
    """Each number of an estimate says "about" on its own: one person is one person."""
    b = Breadth(matches=5, people=1, approximate=True)
    assert plain(b) == "about 5 matching quotes from 1 person"
    b = Breadth(matches=2, people=4, companies=2, approximate=True)
    assert plain(b) == "about 4 people at 2 companies, in 2 distinct quotes"


def _hit(n: int, counted: bool):  # type: ignore[no-untyped-def]
    from bot.core.search import QuoteHit
    from store.queries.quotes import QuoteView

    view = QuoteView(id=n, team_id="T1", text=f"words {n}", speaker_name=f"S{n}",
                     speaker_user_id=None, speaker_team_id=None, company=None, segment=None,
                     source_kind="slack", source_url=None, channel_id="C1", message_ts=None,
                     thread_ts=None, is_private=False, shareable=True, first_hand=True,
                     relayed_by=None, captured_by="U1", captured_at=DAY, said_at=DAY, tags=(),
                     emotion=None, emotion_confidence=None, embedding_model=None)
    return QuoteHit(view, 1.0 - n / 10, counted=counted)


def _contexts(counted: list[bool]) -> list[str]:
    from bot.core.query import parse_query
    from bot.core.search import SearchResult
    from bot.slack.views.blocks import Target, search_reply

    result = SearchResult(query=parse_query("export"), breadth=Breadth(matches=1, people=1),
                          hits=tuple(_hit(n, c) for n, c in enumerate(counted, start=1)))
    _, blocks = search_reply(result, Target("C1"), show_buttons=False)
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def test_quotes_beyond_the_counted_matches_are_shown_as_less_related() -> None:
    """The header says how many quotes match; quotes shown after them are not among them,
    and the answer says so instead of letting a reader count them in."""
    from bot.slack.views.blocks import LESS_RELATED, NOT_COUNTED

    texts = _contexts([True, False, False])
    assert texts.count(LESS_RELATED) == 1
    assert texts.index(LESS_RELATED) == 1  # after the first quote's attribution
    assert not any(NOT_COUNTED in t for t in texts)
    assert LESS_RELATED not in _contexts([True, True])  # every quote shown is counted
    # a quote outside the count moved up among counted ones is marked on its own line
    mixed = _contexts([True, False, True])
    assert LESS_RELATED not in mixed
    assert [NOT_COUNTED in t for t in mixed] == [False, True, False]


def test_the_terminal_shows_the_same_boundary() -> None:
    from bot.cli.terminal import render
    from bot.core.query import parse_query
    from bot.core.search import SearchResult
    from bot.slack.views.blocks import LESS_RELATED

    result = SearchResult(query=parse_query("export"), breadth=Breadth(matches=1, people=1),
                          hits=(_hit(1, True), _hit(2, False)))
    text = render(result)
    assert text.index("words 1") < text.index(LESS_RELATED) < text.index("words 2")


def test_search_marks_what_its_header_does_not_count(services) -> None:  # type: ignore[no-untyped-def]
    """End to end: one quote on the topic among unrelated ones; the unrelated ones shown
    after it are not counted by the header and are marked as such."""
    from bot.core.query import parse_query
    from store.queries.quotes import NewQuote

    texts = ["The CSV export times out on large workspaces every single time",
             "I love the new colour scheme", "Where do I change my billing address?",
             "Onboarding took us a week"]
    services.imports.import_quotes([(n, NewQuote(team_id="T1", text=t, speaker_name=f"P{n}"))
                                    for n, t in enumerate(texts)])
    result = services.search.search("T1", parse_query("csv export timing out"))
    assert result.breadth.matches == 1
    assert [h.counted for h in result.hits][:1] == [True]
    assert result.hits[0].quote.text == texts[0]
    assert len(result.hits) > 1 and not any(h.counted for h in result.hits[1:])
    assert result.less_related_from() == 1


def test_companies_are_said_to_be_the_named_ones_when_some_quotes_name_none() -> None:
    """The demo's consumers name no company and one interviewee does: never "24 people at 1
    company"."""
    some = Breadth(matches=23, people=24, companies=1, unnamed_companies=True,
                   approximate=True)
    assert plain(some) == "about 24 people (1 company named), in about 23 distinct quotes"
    assert plain(Breadth(matches=12, people=7, companies=3, unnamed_companies=True)) == (
        "12 matching quotes from 7 people (3 companies named)")
    assert plain(Breadth(matches=5, people=5, unnamed_companies=True)) == (
        "5 matching quotes from 5 people")


def test_offers_and_the_digest_say_named_companies_alike() -> None:
    """The evidence offer and the weekly digest use the same rule as the /voice header."""
    from datetime import timedelta

    from bot.core.digest import DigestData
    from bot.core.query import parse_query
    from bot.core.search import SearchResult
    from bot.slack.views.digest import _breadth
    from bot.slack.views.offers import offer

    some = SearchResult(query=parse_query("card delivery"),
                        breadth=Breadth(matches=7, people=7, companies=2,
                                        unnamed_companies=True))
    assert offer(1, "card delivery", some)[0].startswith(
        "7 users (2 companies named) talked about")
    every = SearchResult(query=parse_query("card delivery"),
                         breadth=Breadth(matches=7, people=7, companies=2))
    assert offer(1, "card delivery", every)[0].startswith("7 users at 2 companies talked")

    def week(unnamed: bool) -> DigestData:
        return DigestData(team_id="T1", start=DAY, end=DAY + timedelta(days=7), total=12,
                          people=7, companies=1, themes=(), frustrated=(), confused=(),
                          disappointed=(), delighted=(), used=(), habits=(),
                          unnamed_companies=unnamed)

    assert _breadth(week(True), "*") == "*12* new quotes from *7* people (*1* company named)."
    assert _breadth(week(False), "*") == "*12* new quotes from *7* people at *1* company."
