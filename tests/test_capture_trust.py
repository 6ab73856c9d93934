"""Capture keeps its promises: a quote is the user's exact words, never Slack's placeholder,
never silently replaced or stretched by an edit, and a shortcut form can be finished on any
replica by the person who opened it, and only by them."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from bot.slack.views.modals import CAPTURE_CALLBACK
from store.models import PendingCapture, Quote, QuoteRevision
from tests.fakes import signing
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import Bot, serve_bot
from tests.test_slack_e2e import eventually, quote_count

PLACEHOLDER = "This message was deleted."


def capture(bot: Bot, text: str, **kw) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A message captured with the emoji by U1; its ts and the quote id."""
    ts = bot.slack.add_message("C1", text, user="UCUST", **kw)
    before = len(bot.slack.calls_to("chat.postEphemeral"))
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
    bot.slack.wait_for("chat.postEphemeral", count=before + 1)
    with bot.services.sessions() as s:
        return ts, s.scalars(select(Quote.id).where(Quote.message_ts == ts)).one()


def changed(ts: str, message: dict, **extra) -> dict:  # type: ignore[no-untyped-def]
    return {"type": "message", "subtype": "message_changed", "hidden": True, "channel": "C1",
            "ts": f"{float(ts) + 5:.6f}", "event_ts": f"{float(ts) + 5:.6f}",
            "message": {"type": "message", "ts": ts, **message}, **extra}


def tombstone(ts: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    return {"subtype": "tombstone", "hidden": True, "text": PLACEHOLDER, "user": "USLACKBOT",
            "thread_ts": ts, "reply_count": 1, **extra}


def stored(bot: Bot, quote_id: int) -> Quote | None:
    with bot.services.sessions() as s:
        return s.get(Quote, quote_id)


# ---- 1. deleted and hidden messages --------------------------------------------------------
@pytest.mark.parametrize("shape", ["tombstone", "hidden_without_subtype"])
def test_deleted_thread_parent_deletes_its_quote_not_stores_the_placeholder(
        bot: Bot, shape: str) -> None:
    ts, quote_id = capture(bot, "Exports to Excel lose the time zone")
    bot.slack.add_message("C1", "Same here", user="U2", thread_ts=ts)
    message = tombstone(ts) if shape == "tombstone" else {
        "hidden": True, "text": PLACEHOLDER, "thread_ts": ts}
    bot.event(changed(ts, message, previous_message={
        "type": "message", "ts": ts, "user": "UCUST",
        "text": "Exports to Excel lose the time zone"}))
    assert eventually(lambda: quote_count(bot) == 0), "the quote was not deleted"
    # the index forgets it just after the database commit (a search in between never shows
    # it: the shown quotes are read from the database)
    assert eventually(lambda: quote_id not in bot.services.indexes.get("T0001"))
    with bot.services.sessions() as s:
        assert s.scalars(select(QuoteRevision)).all() == []


def test_deleting_a_reply_under_a_deleted_parent_removes_both_quotes(bot: Bot) -> None:
    parent, _ = capture(bot, "We pay for seats nobody uses")
    reply, _ = capture(bot, "Seat management is our biggest admin chore", thread_ts=parent)
    bot.event(changed(parent, tombstone(parent)))  # the parent deleted; its reply remains
    bot.event({"type": "message", "subtype": "message_deleted", "hidden": True,
               "channel": "C1", "ts": reply, "deleted_ts": reply, "event_ts": reply,
               "previous_message": {"type": "message", "ts": reply, "thread_ts": parent,
                                    "user": "UCUST", "text": "Seat management is ..."}})
    # Slack then reports the parent again, still a tombstone, now without replies
    bot.event(changed(parent, tombstone(parent, reply_count=0)))
    assert eventually(lambda: quote_count(bot) == 0)
    time.sleep(0.3)  # background edits would land here
    with bot.services.sessions() as s:
        assert s.scalars(select(Quote.text)).all() == []


def test_placeholder_messages_are_never_captured(bot: Bot) -> None:
    parent = bot.slack.add_message("C1", PLACEHOLDER, user="USLACKBOT", subtype="tombstone",
                                   hidden=True)
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", parent))
    (note,) = bot.slack.wait_for("chat.postEphemeral")
    assert "deleted" in note.params["text"]
    bot.send(signing.message_action("save_user_voice", {
        "ts": parent, "text": PLACEHOLDER, "subtype": "tombstone", "hidden": True,
        "user": "USLACKBOT"}))
    bot.slack.wait_for("chat.postEphemeral", count=2)
    assert bot.slack.calls_to("views.open") == []
    assert quote_count(bot) == 0


# ---- 2. edits: excerpts stay, invalid edits are not stored -----------------------------------
def open_shortcut(bot: Bot, message: dict, user_id: str = "U1") -> dict:
    before = len(bot.slack.calls_to("views.open"))
    bot.send(signing.message_action("save_user_voice", message, user_id=user_id))
    return bot.slack.wait_for("views.open", count=before + 1)[-1].params["view"]


def excerpt_values(excerpt: str | None) -> dict:
    return {"excerpt": {"value": {"type": "plain_text_input", "value": excerpt}}}


def test_author_edit_never_replaces_an_excerpt_and_asks_the_capturer(bot: Bot) -> None:
    ts = bot.slack.add_message("C1", "My SSN is 078-05-1120. The export drops the last row.",
                               user="UCUST")
    view = open_shortcut(bot, {"ts": ts, "user": "UCUST",
                               "text": "My SSN is 078-05-1120. The export drops the last row."})
    resp = bot.send(signing.view_submission(CAPTURE_CALLBACK, excerpt_values(
        "The export drops the last row."), private_metadata=view["private_metadata"]))
    assert resp.status == 200
    bot.slack.wait_for("chat.postEphemeral")
    with bot.services.sessions() as s:
        quote = s.scalars(select(Quote)).one()
    assert (quote.text, quote.is_excerpt) == ("The export drops the last row.", True)

    # an edit that still contains the excerpt word for word changes nothing
    bot.event(changed(ts, {"user": "UCUST", "text": "My SSN is 078-05-1120. The export "
                           "drops the last row. Every time."}))
    # an edit that no longer contains it: the excerpt stays, the capturer is asked
    bot.event(changed(ts, {"user": "UCUST", "text": "My SSN is 078-05-1120. The export "
                           "drops the final row."}))
    (dm,) = bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U1"
    shown = json.dumps(dm.params["blocks"])
    assert "The export drops the last row." in shown and "078-05-1120" not in shown
    actions = {e["action_id"]: e["value"] for b in dm.params["blocks"]
               if b["type"] == "actions" for e in b["elements"]}
    assert actions == {"quote_keep": str(quote.id), "quote_delete": str(quote.id)}
    kept = stored(bot, quote.id)
    assert kept is not None
    assert (kept.text, kept.is_excerpt, kept.source_changed) == (
        "The export drops the last row.", True, True)
    with bot.services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(QuoteRevision)) == 0


def test_keep_as_saved_is_for_the_capturer_or_an_admin(bot: Bot) -> None:
    bot.slack.add_user("UADMIN", "Ada Admin", is_admin=True)
    ts = bot.slack.add_message("C1", "Billing emails arrive twice", user="UCUST")
    view = open_shortcut(bot, {"ts": ts, "user": "UCUST", "text": "Billing emails arrive twice"})
    bot.send(signing.view_submission(CAPTURE_CALLBACK, excerpt_values("emails arrive twice"),
                                     private_metadata=view["private_metadata"]))
    bot.slack.wait_for("chat.postEphemeral")
    bot.event(changed(ts, {"user": "UCUST", "text": "Billing emails come twice"}))
    (dm,) = bot.slack.wait_for("chat.postMessage")
    keep = next(e for b in dm.params["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == "quote_keep")
    quote_id = int(keep["value"])

    hook = bot.slack.new_response_url()
    assert bot.send(signing.block_actions("quote_keep", keep["value"], user_id="U2",
                                          response_url=hook)).status == 200
    (refused,) = bot.responses(hook)
    assert "Only the person who captured" in refused["text"]
    assert stored(bot, quote_id).source_changed  # type: ignore[union-attr]
    for user in ("UADMIN", "U1"):
        hook = bot.slack.new_response_url()
        bot.send(signing.block_actions("quote_keep", keep["value"], user_id=user,
                                       response_url=hook))
        (done,) = bot.responses(hook)
        assert done["text"].startswith("Kept as saved")
    quote = stored(bot, quote_id)
    assert quote is not None and not quote.source_changed
    assert quote.text == "emails arrive twice"


@pytest.mark.parametrize("bad_edit", ["x" * 120_000, "Reports are \x00 slow", "   "],
                         ids=["120k_chars", "nul", "blank"])
def test_unstorable_edit_keeps_the_words_and_flags_the_quote(bot: Bot, bad_edit: str) -> None:
    ts, quote_id = capture(bot, "Reports are slow")
    bot.event(changed(ts, {"user": "UCUST", "text": bad_edit}))
    (dm,) = bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U1" and "Reports are slow" in json.dumps(dm.params["blocks"])
    quote = stored(bot, quote_id)
    assert quote is not None and quote.text == "Reports are slow" and quote.source_changed
    # a later, storable edit is followed again, with its history
    bot.event(changed(ts, {"user": "UCUST", "text": "Reports are very slow"}))

    def followed():  # type: ignore[no-untyped-def]
        q = stored(bot, quote_id)
        return q if q is not None and q.text == "Reports are very slow" else None

    quote = eventually(followed)
    assert quote is not None and not quote.source_changed
    with bot.services.sessions() as s:
        assert s.scalars(select(QuoteRevision.text)).all() == ["Reports are slow"]


# ---- 5. the shortcut's pending text lives in the database -----------------------------------
LONG = ("Honestly the migration tool is the reason we almost churned. " * 60).strip()


def slack_with_people() -> FakeSlack:
    slack = FakeSlack()
    slack.add_user("U1", "Ana Teammate")
    slack.add_user("U2", "Bo Teammate")
    slack.add_user("UCUST", "Casey Customer", team_id="T0001")
    slack.add_channel("C1", "general")
    return slack


def pending_rows(bot: Bot) -> int:
    with bot.services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(PendingCapture)) or 0)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_long_shortcut_message_can_be_submitted_on_another_replica(
        tmp_path, request: pytest.FixtureRequest, backend: str) -> None:  # type: ignore[no-untyped-def]
    url = (f"sqlite:///{tmp_path / 'shared.db'}" if backend == "sqlite"
           else request.getfixturevalue("clean_postgres"))
    with slack_with_people() as slack, \
            serve_bot(tmp_path, slack, database_url=url) as one, \
            serve_bot(tmp_path, slack, database_url=url) as two:
        ts = slack.add_message("C1", LONG, user="UCUST")
        view = open_shortcut(one, {"ts": ts, "user": "UCUST", "text": LONG})
        assert LONG not in view["private_metadata"]
        resp = two.send(signing.view_submission(CAPTURE_CALLBACK, excerpt_values(None),
                                                private_metadata=view["private_metadata"]))
        assert resp.status == 200 and resp.text in ("", "{}"), resp.text
        slack.wait_for("chat.postEphemeral")
        with two.services.sessions() as s:
            assert s.scalars(select(Quote.text)).all() == [LONG]
        assert eventually(lambda: pending_rows(one) == 0), "pending text not removed"


def test_only_the_person_who_opened_the_form_can_submit_it(bot: Bot) -> None:
    for text in ("Short: the calendar sync is flaky", LONG):
        ts = bot.slack.add_message("C1", text, user="UCUST")
        view = open_shortcut(bot, {"ts": ts, "user": "UCUST", "text": text}, user_id="U1")
        resp = bot.send(signing.view_submission(CAPTURE_CALLBACK, excerpt_values(None),
                                                private_metadata=view["private_metadata"],
                                                user_id="U2"))
        assert resp.json()["response_action"] == "errors"
        assert "expired" in resp.json()["errors"]["excerpt"]
    time.sleep(0.3)
    assert quote_count(bot) == 0


def test_pending_text_expires_after_a_day(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    with slack_with_people() as slack, serve_bot(tmp_path, slack, clock=clock) as bot:
        ts = slack.add_message("C1", LONG, user="UCUST")
        view = open_shortcut(bot, {"ts": ts, "user": "UCUST", "text": LONG})
        clock.advance(hours=25)
        resp = bot.send(signing.view_submission(CAPTURE_CALLBACK, excerpt_values(None),
                                                private_metadata=view["private_metadata"]))
        assert "expired" in resp.json()["errors"]["excerpt"]
        other = slack.add_message("C1", LONG + " Again.", user="UCUST")
        open_shortcut(bot, {"ts": other, "user": "UCUST", "text": LONG + " Again."})
        assert pending_rows(bot) == 1  # the expired row was cleared on the next write
