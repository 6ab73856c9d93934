"""Weekly digest: content, rendering within Block Kit limits, and posting exactly once."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import select, update

from bot.config import Settings
from bot.container import build_services
from bot.core.digest import week_ending
from bot.slack.app import make_client, make_delivery
from bot.slack.views.digest import digest_blocks, digest_text
from store.errors import InvalidQuote
from store.models import DigestClaim, Quote, QuoteUse
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder
from tests.fakes.clock import TEST_NOW, FakeClock
from tests.fakes.slack_api import FakeSlack

NOW = TEST_NOW  # a Wednesday; the services fixture's clock stands still at it


def week_quotes(services, when: datetime) -> None:  # type: ignore[no-untyped-def]
    items = [
        ("The CSV export times out every time", "Ana", "Acme", "frustrated", "U1"),
        ("The CSV export times out on large boards", "Bo", "Beta", "frustrated", "U1"),
        ("CSV export times out again today", "Cy", "Acme", "frustrated", "U2"),
        ("What does the sync toggle even do?", "Dee", "Delta", "confused", "U2"),
        ("I love the new timeline, it saves me hours", "Eve", "Echo", "delighted", "U1"),
    ]
    for n, (text, who, company, emotion, by) in enumerate(items):
        services.capture.save(NewQuote(team_id="T0001", text=text, speaker_name=who,
                                      company=company, emotion=emotion,
                                      emotion_confidence=0.9 - n / 100, captured_by=by))
    services.capture.save(NewQuote(team_id="T0001", text="Secret renewal terms are a blocker",
                                  speaker_name="Zed", channel_id="CPRIV", message_ts="1.1",
                                  is_private=True, captured_by="U1"))
    with services.sessions.begin() as s:
        s.execute(update(Quote).values(captured_at=when))


def test_week_ending_respects_weekday_time_and_zone() -> None:
    class S:
        digest_weekday, digest_time, digest_timezone = 0, "09:00", "America/New_York"

    start, end = week_ending(S, NOW)
    assert end.isoformat() == "2026-11-23T09:00:00-05:00" and end - start == timedelta(days=7)
    start2, end2 = week_ending(S, end.astimezone(timezone.utc))  # exactly at the moment
    assert end2 == end


def test_digest_content(services) -> None:  # type: ignore[no-untyped-def]
    week_quotes(services, NOW - timedelta(days=2))
    with services.sessions() as s:
        ids = list(s.scalars(select(Quote.id).order_by(Quote.id)))
    services.usage.record_use("T0001", [ids[0], ids[0], ids[3]], "shown", "U3", "C1")
    # The same quote in a thread of C1 is a second debate; shown twice in C1 is one.
    services.usage.record_use("T0001", [ids[0]], "posted", "U3", "C1", thread_ts="1.2")
    with services.sessions.begin() as s:
        s.execute(update(QuoteUse).values(used_at=NOW - timedelta(days=1)))
    data = services.digests.build("T0001", NOW - timedelta(days=7), NOW, "C1")
    assert (data.total, data.people, data.companies) == (5, 5, 4)  # private one left out
    assert data.themes and data.themes[0].size == 3
    assert "csv" in data.themes[0].label and "CSV" in data.themes[0].representative.text
    assert [v.speaker_name for v in data.frustrated] == ["Ana", "Bo", "Cy"]
    assert data.confused[0].speaker_name == "Dee" and data.delighted[0].speaker_name == "Eve"
    assert [(v.id, n) for v, n in data.used] == [(ids[0], 2), (ids[3], 1)]
    assert [(h.user_id, h.people, h.quotes) for h in data.habits] == [("U1", 3, 3),
                                                                      ("U2", 2, 2)]
    in_private = services.digests.build("T0001", NOW - timedelta(days=7), NOW, "CPRIV")
    assert in_private.total == 6
    text = digest_text(data)
    assert "The CSV export times out every time" in text and "Secret renewal" not in text


def test_quiet_week_says_so(services) -> None:  # type: ignore[no-untyped-def]
    data = services.digests.build("T0001", NOW - timedelta(days=7), NOW, "C1")
    text, blocks = digest_blocks(data)
    assert data.quiet and "quiet week" in str(blocks) and "support tickets" in str(blocks)
    assert "Nobody captured" in str(blocks)


def test_big_week_stays_within_block_kit_limits(services) -> None:  # type: ignore[no-untyped-def]
    rows = [(i, NewQuote(team_id="T0001", text=f"Topic {i % 9} problem: " + "long words " * 60,
                         speaker_name=f"P{i}", emotion=("frustrated", "confused", "delighted",
                                                        "disappointed")[i % 4],
                         captured_by=f"U{i % 30}")) for i in range(300)]
    services.imports.import_quotes(rows)
    with services.sessions() as s:
        ids = list(s.scalars(select(Quote.id).order_by(Quote.id).limit(40)))
    services.usage.record_use("T0001", ids, "shared", "U1", "C1")
    data = services.digests.build("T0001", NOW - timedelta(days=365), NOW + timedelta(days=1),
                                  "C1")
    text, blocks = digest_blocks(data)
    assert text and 0 < len(blocks) <= 50
    for block in blocks:
        Block.parse(block).validate_json()
    assert sum(len(str(b)) for b in blocks) < 13_000
    assert "shortened" in str(blocks)


def test_bad_settings_are_refused(services) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidQuote, match="time zone"):
        services.workspaces.update("T0001", digest_timezone="Mars/Olympus")
    with pytest.raises(InvalidQuote, match="time of day"):
        services.workspaces.update("T0001", digest_time="25:00")


# -- delivery, against real PostgreSQL and the fake Slack Web API ----------------------------

@pytest.fixture
def pg_delivery(clean_postgres: str):  # type: ignore[no-untyped-def]
    with FakeSlack() as slack:
        slack.add_channel("CDIG", "product")
        settings = Settings(database_url=clean_postgres, slack_bot_token="xoxb-test-token",
                            slack_api_url=slack.base_url)
        services = build_services(settings, embedder=HashingEmbedder(), clock=FakeClock())
        services.workspaces.update("T0001", digest_channel="CDIG", digest_weekday=0,
                                   digest_time="09:00", digest_timezone="UTC")
        week_quotes(services, NOW - timedelta(days=3))
        yield slack, settings, services
        services.close()


def _post_in_child(url: str, api: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=url, slack_bot_token="xoxb-test-token", slack_api_url=api)
    services = build_services(settings, embedder=HashingEmbedder(), migrate=False,
                              clock=FakeClock())
    barrier.wait()
    results.put(make_delivery(settings, services).post("T0001", now=NOW).status)


@pytest.mark.postgres
def test_two_processes_racing_post_once(pg_delivery) -> None:  # type: ignore[no-untyped-def]
    slack, settings, _ = pg_delivery
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_post_in_child, args=(settings.database_url, slack.base_url,
                                                      barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    statuses = sorted(results.get(timeout=5) for _ in procs)
    assert statuses in (["in_progress", "posted"], ["already_posted", "posted"])
    (post,) = slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "CDIG" and "CSV" in str(post.params["blocks"])
    assert post.params["metadata"]["event_type"] == "voicebot_digest"


@pytest.mark.postgres
def test_rerun_and_restart_do_not_post_twice(pg_delivery) -> None:  # type: ignore[no-untyped-def]
    slack, settings, services = pg_delivery
    delivery = make_delivery(settings, services)
    assert delivery.post("T0001", now=NOW).status == "posted"
    assert delivery.post("T0001", now=NOW + timedelta(hours=1)).status == "already_posted"
    restarted = make_delivery(settings, services)
    assert restarted.post("T0001", now=NOW + timedelta(days=1)).status == "already_posted"
    assert len(slack.calls_to("chat.postMessage")) == 1


@pytest.mark.postgres
def test_crash_between_claim_and_post_resumes_once(pg_delivery) -> None:  # type: ignore[no-untyped-def]
    slack, settings, services = pg_delivery
    start, end = week_ending(services.workspaces.get("T0001"), NOW)
    with services.sessions.begin() as s:  # a process claimed, then died before posting
        s.add(DigestClaim(team_id="T0001", channel_id="CDIG", period_start=start,
                          period_end=end, status="claimed", claimed_by="dead:1",
                          claimed_at=NOW - timedelta(minutes=5), attempts=1))
    delivery = make_delivery(settings, services)
    assert delivery.post("T0001", now=NOW).status == "in_progress"  # lease not over yet
    assert delivery.post("T0001", now=NOW + timedelta(minutes=30)).status == "posted"
    assert delivery.post("T0001", now=NOW + timedelta(minutes=31)).status == "already_posted"
    assert len(slack.calls_to("chat.postMessage")) == 1


@pytest.mark.postgres
def test_crash_after_post_before_marking_does_not_repost(pg_delivery) -> None:  # type: ignore[no-untyped-def]
    slack, settings, services = pg_delivery
    delivery = make_delivery(settings, services)
    assert delivery.post("T0001", now=NOW).status == "posted"
    with services.sessions.begin() as s:  # as if the process died before recording it
        s.execute(update(DigestClaim).values(status="claimed", posted_at=None,
                                             claimed_at=NOW - timedelta(hours=1)))
    assert delivery.post("T0001", now=NOW + timedelta(minutes=5)).status == "already_posted"
    assert len(slack.calls_to("chat.postMessage")) == 1
    with services.sessions() as s:
        assert s.scalars(select(DigestClaim.status)).one() == "posted"


@pytest.mark.postgres
def test_429_is_retried_and_failures_reported_then_retried(pg_delivery) -> None:  # type: ignore[no-untyped-def]
    slack, settings, services = pg_delivery
    slack.rate_limit("chat.postMessage", retry_after=0)
    delivery = make_delivery(settings, services)
    assert delivery.post("T0001", now=NOW).status == "posted"
    assert len(slack.calls_to("chat.postMessage")) == 2  # the 429, then the post
    slack.channels["CDIG"]["is_member"] = False
    slack.scopes.remove("chat:write.public")
    next_week = NOW + timedelta(days=7)
    outcome = delivery.post("T0001", now=next_week)
    assert outcome.status == "failed" and outcome.detail == "not_in_channel"
    assert "/invite @voicebot" in services.workspaces.update("T0001").digest_problem
    slack.channels["CDIG"]["is_member"] = True
    assert delivery.post("T0001", now=next_week + timedelta(minutes=1)).status == "posted"
    assert services.workspaces.update("T0001").digest_problem is None


@pytest.mark.postgres
def test_missed_weeks_post_the_latest_once(pg_delivery) -> None:  # type: ignore[no-untyped-def]
    slack, settings, services = pg_delivery
    delivery = make_delivery(settings, services)
    later = NOW + timedelta(days=21)  # down for three weeks
    assert delivery.post("T0001", now=later).status == "posted"
    assert delivery.post("T0001", now=later + timedelta(hours=2)).status == "already_posted"
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_cli_preview_of_a_past_week(monkeypatch, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.cli.main import main

    url = f"sqlite:///{tmp_path / 'd.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    services = build_services(Settings(database_url=url), embedder=HashingEmbedder())
    week_quotes(services, datetime(2026, 3, 4, 10, tzinfo=timezone.utc))
    services.close()
    assert main(["digest", "--preview", "--week", "2026-03-02"],
                embedder=HashingEmbedder()) == 0
    out = capsys.readouterr().out
    assert "5 new quotes from 5 people" in out and "The CSV export times out" in out
    assert "Secret renewal" not in out
    assert main(["digest", "--week", "2026-13-01"], embedder=HashingEmbedder()) == 1
    assert main(["digest", "--post"], embedder=HashingEmbedder()) == 1
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err
    assert make_client(Settings()).base_url == "https://slack.com/api/"
