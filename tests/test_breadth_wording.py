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
