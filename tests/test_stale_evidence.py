"""Evidence that is getting old: the breadth header says how recent it is, warns when all of
it is older than the workspace's threshold, nudges towards `since:`, and the digest names
topics argued on old evidence (only those asked where its readers could see)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.core.search import Breadth
from bot.slack.views.digest import digest_blocks, digest_text
from bot.slack.views.recency import ago, recency_line
from store.clock import months_before
from store.queries.quotes import NewQuote
from tests.fakes.clock import TEST_NOW
from tests.slack_harness import Bot, assert_valid_message
from tests.test_slack_e2e import eventually

NOW = TEST_NOW


@pytest.mark.parametrize(("days", "words"), [
    (0, "today"), (1, "1 day ago"), (13, "13 days ago"), (14, "2 weeks ago"),
    (60, "8 weeks ago"), (61, "2 months ago"), (425, "13 months ago"), (800, "2 years ago")])
def test_ago_reads_like_a_person_would_say_it(days: int, words: str) -> None:
    assert ago(NOW - timedelta(days=days), NOW) == words


def test_months_before_clamps_the_day() -> None:
    assert months_before(datetime(2026, 8, 31, tzinfo=timezone.utc), 6) == \
        datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert months_before(datetime(2026, 1, 15, tzinfo=timezone.utc), 13) == \
        datetime(2024, 12, 15, tzinfo=timezone.utc)


def test_recency_line() -> None:
    def b(first_days: int, last_days: int) -> Breadth:
        return Breadth(matches=3, people=3, first=NOW - timedelta(days=first_days),
                       last=NOW - timedelta(days=last_days))

    assert recency_line(Breadth(), NOW, 6, has_since=False) is None
    old = recency_line(b(400, 200), NOW, 6, has_since=False)
    assert old is not None and "No one has said this in the last 6 months" in old
    assert recency_line(b(400, 200), NOW, 12, has_since=False) == \
        "newest 6 months ago, oldest 13 months ago"  # no since: nudge, it would find nothing
    assert recency_line(b(400, 60), NOW, 6, has_since=False) == \
        "newest 8 weeks ago, oldest 13 months ago \u00b7 only recent ones: add `since:90d`"
    mixed = recency_line(b(425, 14), NOW, 6, has_since=False)
    assert mixed == ("newest 2 weeks ago, oldest 13 months ago \u00b7 only recent ones: "
                     "add `since:30d`")
    assert "since:" not in (recency_line(b(425, 14), NOW, 6, has_since=True) or "")
    assert recency_line(b(10, 10), NOW, 6, has_since=False) == "newest 10 days ago"


def seed(bot: Bot, text: str, speaker: str, said: datetime) -> None:
    bot.services.capture.save(NewQuote(team_id="T0001", text=text, speaker_name=speaker,
                                       said_at=said))


def header(bot: Bot, topic: str, channel: str = "C1") -> str:
    _, hook = bot.command(topic, channel_id=channel)
    (reply,) = bot.responses(hook)
    assert_valid_message(reply)
    return str(reply["blocks"][0]["text"]["text"])


def test_voice_warns_when_every_quote_is_old_and_the_threshold_is_the_workspaces(
        bot: Bot) -> None:
    seed(bot, "audit log export is useless", "Ana", NOW - timedelta(days=250))
    seed(bot, "audit log export is useless again", "Bo", NOW - timedelta(days=300))
    text = header(bot, "audit log export")
    assert "No one has said this in the last 6 months" in text and "worth asking again" in text
    bot.services.workspaces.update("T0001", stale_months=12)
    text = header(bot, "audit log export")
    assert "No one has said" not in text and "newest 8 months ago, oldest 9 months ago" in text


def test_voice_nudges_towards_since_when_evidence_is_mixed(bot: Bot) -> None:
    seed(bot, "dark mode please", "Ana", NOW - timedelta(days=3))
    seed(bot, "dark mode please now", "Bo", NOW - timedelta(days=500))
    text = header(bot, "dark mode")
    assert "newest 3 days ago, oldest 16 months ago" in text and "`since:30d`" in text
    assert "since:30d" not in header(bot, "since:2025-01-01 dark mode")


def test_digest_names_topics_argued_on_old_evidence_only_where_readers_could_see(
        bot: Bot) -> None:
    seed(bot, "invoice currency euros", "Ana", NOW - timedelta(days=400))
    seed(bot, "mobile app speed is great", "Bo", NOW - timedelta(days=2))
    header(bot, "invoice currency", channel="C1")  # public, old evidence
    header(bot, "mobile app speed", channel="C1")  # public, fresh evidence
    header(bot, "secret euros invoice currency", channel="CPRIV")  # private: never named
    data = eventually(lambda: (d := bot.services.digests.build(
        "T0001", NOW - timedelta(days=7), NOW + timedelta(minutes=1), "C1")).old_evidence
        and d)
    assert [t for t, _ in data.old_evidence] == ["invoice currency"]
    text, blocks = digest_blocks(data)
    assert "Argued on old evidence" in json.dumps(blocks) and "secret" not in json.dumps(blocks)
    assert "\u201cinvoice currency\u201d, newest quote" in digest_text(data)
    in_private = eventually(lambda: (d := bot.services.digests.build(
        "T0001", NOW - timedelta(days=7), NOW + timedelta(minutes=1), "CPRIV"))
        .old_evidence[1:] and d)
    assert {t for t, _ in in_private.old_evidence} == {"invoice currency",
                                                      "secret euros invoice currency"}


def test_markup_in_an_old_topic_is_escaped_in_the_digest(bot: Bot) -> None:
    seed(bot, "Pricing <!channel> is confusing", "Ana", NOW - timedelta(days=400))
    header(bot, "pricing <!channel>", channel="C1")
    data = eventually(lambda: (d := bot.services.digests.build(
        "T0001", NOW - timedelta(days=7), NOW + timedelta(minutes=1), "C1")).old_evidence
        and d)
    raw = json.dumps(digest_blocks(data)[1])
    assert data.old_evidence and "<!channel>" not in raw


def test_settings_refuse_an_absurd_threshold(bot: Bot) -> None:
    from store.errors import InvalidQuote
    with pytest.raises(InvalidQuote):
        bot.services.workspaces.update("T0001", stale_months=0)
    with pytest.raises(InvalidQuote):
        bot.services.workspaces.update("T0001", stale_months=10_000)
    assert bot.services.workspaces.get("T0001").stale_months == 6


def test_settings_modal_sets_when_evidence_is_old(bot: Bot) -> None:
    from tests.fakes import signing

    bot.send(signing.block_actions("home_settings", "settings", user_id="UADM"))
    (opened,) = bot.slack.wait_for("views.open")
    view = opened.params["view"]
    assert any(b.get("block_id") == "stale" for b in view["blocks"])

    def form(stale: str) -> dict:
        return {"emoji": {"value": {"type": "plain_text_input", "value": "loudspeaker"}},
                "day": {"value": {"type": "static_select", "selected_option": {"value": "0"}}},
                "time": {"value": {"type": "plain_text_input", "value": "09:00"}},
                "tz": {"value": {"type": "plain_text_input", "value": "UTC"}},
                "stale": {"value": {"type": "plain_text_input", "value": stale}}}

    for bad in ("0", "-3", "six", "99999"):
        resp = bot.send(signing.view_submission(view["callback_id"], form(bad), user_id="UADM"))
        assert resp.json()["response_action"] == "errors" and "stale" in resp.json()["errors"]
    resp = bot.send(signing.view_submission(view["callback_id"], form("12"), user_id="UADM"))
    assert resp.status == 200
    assert eventually(lambda: bot.services.workspaces.get("T0001").stale_months == 12)
