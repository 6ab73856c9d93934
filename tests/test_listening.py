"""Listening in channels shared with customers, driven over HTTP as Slack drives it.

The workspace T0001 shares CACME with Acme (TACME) and CGLOB with Globex (TGLOB); CACMEP is a
private channel shared with Acme. UADM is an admin, U2 a member who may not change
settings, UACME and UGLOB are the customers' own people. Every request is signed as Slack
signs it; the bot talks to the fake Slack Web API over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.slack.listeners.capture import REMOVE_EMOJI
from bot.slack.listeners.listening import LISTENING
from store.models import AuditEntry, Quote
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import Bot, serve_bot
from tests.test_slack_e2e import eventually

SAYS = "The CSV export  times out for any report over 50k rows & we've tried 3x :sob:"


@pytest.fixture
def bot(tmp_path) -> Iterator[Bot]:  # type: ignore[no-untyped-def]
    with FakeSlack() as slack:
        slack.add_user("U1", "Ana Teammate")
        slack.add_user("U2", "Bo Teammate")
        slack.add_user("UADM", "Ada Admin", is_admin=True)
        slack.add_user("UACME", "Casey Acme", team_id="TACME")
        slack.add_user("UACME2", "Dee Acme", team_id="TACME")
        slack.add_user("UGLOB", "Gil Globex", team_id="TGLOB")
        slack.add_team("TACME", "Acme Corp")
        slack.add_team("TGLOB", "Globex")
        slack.add_channel("C1", "general")
        slack.add_channel("CACME", "acme-support", is_ext_shared=True, is_shared=True,
                          shared_team_ids=["T0001", "TACME"])
        slack.add_channel("CACMEP", "acme-private", is_private=True, is_ext_shared=True,
                          is_shared=True, shared_team_ids=["T0001", "TACME"])
        slack.add_channel("CGLOB", "globex-support", is_ext_shared=True, is_shared=True,
                          shared_team_ids=["T0001", "TGLOB"])
        with serve_bot(tmp_path, slack) as running:
            yield running


def listen(bot: Bot, args: str, *, channel: str = "CACME", user: str = "UADM",
           **kw: Any) -> dict:
    """``/voice listen <args>`` in ``channel``; the ephemeral answer."""
    resp, hook = bot.command(f"listen {args}".strip(), channel_id=channel, user_id=user, **kw)
    assert resp.status == 200
    (reply,) = bot.responses(hook)
    assert reply["response_type"] == "ephemeral"
    return reply


def say(bot: Bot, channel: str, user: str, text: str, *, team: str | None = None,
        with_team: bool = True, **extra: Any) -> str:
    """``user`` posts ``text`` in ``channel``; Slack delivers the message event. Its ts."""
    team = team or bot.slack.users[user]["team_id"]
    ts = bot.slack.add_message(channel, text, user=user, team=team, **extra)
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
             "team": team, "user_team": team, "source_team": team, "event_ts": ts,
             "channel_type": "channel", **extra}
    if not with_team:  # only the author's profile (users.info) says where they belong
        for key in ("team", "user_team", "source_team"):
            event.pop(key)
    assert bot.event(event).status == 200
    return ts


def kept(bot: Bot, channel: str, ts: str) -> Quote | None:
    with bot.services.sessions() as s:
        return s.scalar(select(Quote).where(Quote.channel_id == channel,
                                            Quote.message_ts == ts))


def wait_kept(bot: Bot, channel: str, ts: str) -> Quote:
    quote = eventually(lambda: kept(bot, channel, ts))
    assert quote is not None, "the message was not kept"
    return quote


def never_kept(bot: Bot, channel: str, ts: str) -> None:
    """After a message that is kept (a marker sent afterwards), this one still is not."""
    marker = say(bot, channel, "UACME", "Marker: the billing page charged us twice this month")
    wait_kept(bot, channel, marker)
    assert eventually(lambda: kept(bot, channel, ts), timeout=1.0) is None


def count(bot: Bot) -> int:
    with bot.services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Quote)))


def answer(bot: Bot, topic: str, channel: str, user: str = "U1") -> str:
    _, hook = bot.command(topic, channel_id=channel, user_id=user)
    (reply,) = bot.responses(hook)
    return json.dumps(reply)


def bot_messages(bot: Bot, channel: str) -> list[dict]:
    """What the bot managed to post in ``channel`` (failed attempts are not there)."""
    return [m for (c, _), m in bot.slack.messages.items()
            if c == channel and m.get("bot_id") == bot.slack.bot_id]


def posts_in(bot: Bot, channel: str) -> list[dict]:
    return [c.params for c in bot.slack.calls_to("chat.postMessage")
            if c.params["channel"] == channel]


# -- turning it on and off ------------------------------------------------------------------

def test_admin_turns_listening_on_and_off_and_the_channel_is_told_once(bot: Bot) -> None:
    assert "*off*" in listen(bot, "", user="U1")["text"]  # anyone may ask for the state
    on = listen(bot, "here")
    assert "Listening is on in <#CACME>" in on["text"] and "told the channel" in on["text"]
    (told,) = posts_in(bot, "CACME")  # visibly, in the channel, once
    assert "other organisations" in told["text"] and "To have your words removed" in \
        json.dumps(told["blocks"]) and "<@UADM>" in told["text"]
    assert "*on*" in listen(bot, "", user="U2")["text"]
    assert "already on" in listen(bot, "here")["text"]
    # App Home lists where listening is on
    bot.event(signing.app_home_opened("U1"))
    (home,) = bot.slack.wait_for("views.publish")
    assert "<#CACME>" in json.dumps(home.params["view"])
    assert "Listening is off in <#CACME>" in listen(bot, "off")["text"]
    assert "*off*" in listen(bot, "")["text"]
    ts = say(bot, "CACME", "UACME", SAYS)
    # back on: listening again, but the channel is not told a second time
    again = listen(bot, "on")
    assert "did not announce it again" in again["text"]
    assert len(posts_in(bot, "CACME")) == 1
    assert kept(bot, "CACME", ts) is None  # said while listening was off
    with bot.services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Quote)) == 0
    state = bot.services.listening.state("T0001", "CACME")
    assert state.enabled and state.changed_by == "UADM" and state.announced_at is not None


def test_only_whoever_may_change_settings_turns_listening_on(bot: Bot) -> None:
    refused = listen(bot, "here", user="U2")
    assert "Only workspace admins and owners can turn listening on or off" in refused["text"]
    # another organisation's member, and a request signed with the wrong secret
    assert "Only" in listen(bot, "here", user="UACME")["text"]
    resp, _ = bot.command("listen here", channel_id="CACME", user_id="UADM",
                          secret="forged-secret-0123456789")
    assert resp.status == 401
    assert not bot.services.listening.state("T0001", "CACME").enabled
    assert posts_in(bot, "CACME") == []
    ts = say(bot, "CACME", "UACME", SAYS)
    # the admins let every full member change settings: Bo may now
    bot.services.workspaces.update("T0001", settings_role="everyone")
    assert "Listening is on" in listen(bot, "here", user="U2")["text"]
    assert "Only" in listen(bot, "off", user="UACME")["text"]  # outsiders never may
    assert bot.services.listening.state("T0001", "CACME").enabled
    assert kept(bot, "CACME", ts) is None


def test_listen_with_odd_arguments_or_in_a_dm_changes_nothing(bot: Bot) -> None:
    odd = listen(bot, "<!channel> `x`")
    assert "I don't know" in odd["text"] and "<!channel>" not in odd["text"]
    assert "not in direct messages" in listen(bot, "here", channel="D123")["text"]
    assert bot.services.listening.channels("T0001") == []
    # an internal channel may listen, but keeps nothing until it is shared outside (a
    # member of another workspace of the same Enterprise Grid organisation is a colleague)
    assert "not shared with another organisation" in listen(bot, "here", channel="C1")["text"]
    ts = say(bot, "C1", "UACME", "Our grid workspace sees the export failing too")
    assert eventually(lambda: kept(bot, "C1", ts), timeout=1.5) is None
    assert bot.services.listening.channels("T0001") == ["C1"]


def test_an_announcement_that_cannot_be_posted_keeps_listening_off(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", "not_in_channel")
    reply = listen(bot, "here")
    assert "Listening stays off" in reply["text"] and "/invite @voicebot" in reply["text"]
    assert not bot.services.listening.state("T0001", "CACME").enabled
    ts = say(bot, "CACME", "UACME", SAYS)
    assert "told the channel" in listen(bot, "here")["text"]  # owed, so told now
    assert len(bot_messages(bot, "CACME")) == 1
    assert kept(bot, "CACME", ts) is None


# -- what is kept ---------------------------------------------------------------------------

def test_an_external_members_message_is_kept_verbatim_and_attributed(bot: Bot) -> None:
    listen(bot, "here")
    ts = say(bot, "CACME", "UACME", SAYS)
    quote = wait_kept(bot, "CACME", ts)
    assert quote.text == SAYS  # exactly, markup and double space included
    assert (quote.speaker_name, quote.speaker_user_id, quote.speaker_team_id) == \
        ("Casey Acme", "UACME", "TACME")
    assert quote.company == "Acme Corp" and quote.source_kind == "slack"
    assert quote.captured_by == LISTENING and not quote.is_private
    assert quote.source_url == bot.slack.permalink("CACME", ts)
    assert quote.said_at is not None and abs(quote.said_at.timestamp() - float(ts)) < 1
    # a thread reply is kept with its thread
    reply_ts = say(bot, "CACME", "UACME2", "Same for us, the PDF export cuts the last column",
                   thread_ts=ts, with_team=False)
    reply = wait_kept(bot, "CACME", reply_ts)
    assert reply.thread_ts == ts and reply.speaker_name == "Dee Acme"
    assert reply.speaker_team_id == "TACME" and reply.company == "Acme Corp"
    # Slack's retry of the same event keeps nothing twice
    before = count(bot)
    bot.event({"type": "message", "channel": "CACME", "user": "UACME", "text": SAYS,
               "ts": ts, "team": "TACME", "user_team": "TACME"})
    never_kept(bot, "CACME", "0")
    assert count(bot) == before + 1  # only the marker


def test_internal_bot_content_free_and_hidden_messages_are_never_kept(bot: Bot) -> None:
    listen(bot, "here")
    internal = say(bot, "CACME", "U1", "Our side: the export fix ships on Tuesday for Acme")
    profile_only = say(bot, "CACME", "U2", "Bo here: I'll check the export logs for Acme now",
                       with_team=False)
    thanks = say(bot, "CACME", "UACME", "Thanks a lot, really appreciate the quick help! :pray:")
    emoji = say(bot, "CACME", "UACME", ":+1: :tada:")
    bot_msg = say(bot, "CACME", "UACME", "Deploy finished: 42 services updated in prod",
                  bot_id="BCI", subtype="bot_message")
    joined = say(bot, "CACME", "UACME", "<@UACME> has joined the channel",
                 subtype="channel_join")
    tomb = say(bot, "CACME", "UACME", "This message was deleted.", subtype="tombstone",
               hidden=True)
    elsewhere = say(bot, "CGLOB", "UGLOB", "Webhooks stopped firing after we rotated the key")
    for ts in (internal, profile_only, thanks, emoji, bot_msg, joined, tomb):
        never_kept(bot, "CACME", ts)
    assert eventually(lambda: kept(bot, "CGLOB", elsewhere), timeout=1.0) is None
    with bot.services.sessions() as s:
        speakers = set(s.scalars(select(Quote.speaker_user_id)))
    assert speakers == {"UACME"}


def test_edits_and_deletions_follow_a_kept_message(bot: Bot) -> None:
    listen(bot, "here")
    ts = say(bot, "CACME", "UACME", SAYS)
    quote = wait_kept(bot, "CACME", ts)
    edited = "The CSV export times out for any report over 20k rows, not 50k"
    bot.event({"type": "message", "subtype": "message_changed", "channel": "CACME",
               "hidden": True, "ts": bot.slack.next_ts(),
               "message": {"type": "message", "user": "UACME", "text": edited, "ts": ts,
                           "edited": {"user": "UACME", "ts": bot.slack.next_ts()}},
               "previous_message": {"type": "message", "user": "UACME", "text": SAYS,
                                    "ts": ts}})
    assert eventually(lambda: (kept(bot, "CACME", ts) or quote).text == edited)
    bot.event({"type": "message", "subtype": "message_deleted", "channel": "CACME",
               "hidden": True, "deleted_ts": ts, "ts": bot.slack.next_ts(),
               "previous_message": {"type": "message", "user": "UACME", "text": edited,
                                    "ts": ts}})
    assert eventually(lambda: kept(bot, "CACME", ts) is None)
    # a thread parent deleted while it has replies becomes a tombstone: deleted as well
    parent = say(bot, "CACME", "UACME", "Login loop on Edge since the last release")
    wait_kept(bot, "CACME", parent)
    bot.event({"type": "message", "subtype": "message_changed", "channel": "CACME",
               "hidden": True, "ts": bot.slack.next_ts(),
               "message": {"type": "message", "subtype": "tombstone", "hidden": True,
                           "text": "This message was deleted.", "ts": parent,
                           "user": "USLACKBOT"}})
    assert eventually(lambda: kept(bot, "CACME", parent) is None)


def test_the_author_removes_their_words_with_the_removal_emoji(bot: Bot) -> None:
    listen(bot, "here")
    (told,) = posts_in(bot, "CACME")
    assert f":{REMOVE_EMOJI}:" in told["text"]  # the announcement says how
    ts = say(bot, "CACME", "UACME", SAYS)
    quote = wait_kept(bot, "CACME", ts)
    # someone else's removal emoji (a teammate, another customer) removes nothing
    for user in ("UACME2", "U1", "UGLOB"):
        bot.event(signing.reaction_added(user, REMOVE_EMOJI, "CACME", ts, item_user="UACME"))
    never_kept(bot, "CACME", "0")
    assert kept(bot, "CACME", ts) is not None
    # the author's own removes it, tells them, and is audited under their id
    bot.event(signing.reaction_added("UACME", REMOVE_EMOJI, "CACME", ts, item_user="UACME"))
    assert eventually(lambda: kept(bot, "CACME", ts) is None)
    (note,) = bot.slack.wait_for("chat.postEphemeral")
    assert note.params["user"] == "UACME" and "removed your message" in note.params["text"]
    with bot.services.sessions() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.quote_id == quote.id))
    assert (entry.actor, entry.action) == ("UACME", "speaker_removed")


def test_reposted_words_link_to_the_first_capture(bot: Bot) -> None:
    listen(bot, "here")
    first = wait_kept(bot, "CACME", say(bot, "CACME", "UACME", SAYS))
    ts = say(bot, "CACME", "UACME2", SAYS)
    again = wait_kept(bot, "CACME", ts)  # linked just after it is stored
    assert again.id != first.id
    assert eventually(lambda: (kept(bot, "CACME", ts) or again).voice_id == first.id)


# -- one customer's words never reach another ------------------------------------------------

def test_one_customers_words_never_reach_another_customers_channel(bot: Bot) -> None:
    listen(bot, "here")
    listen(bot, "here", channel="CACMEP")
    listen(bot, "here", channel="CGLOB")
    acme = wait_kept(bot, "CACME", say(bot, "CACME", "UACME",
                                       "Invoices never reconcile with our ledger export"))
    private = wait_kept(bot, "CACMEP", say(bot, "CACMEP", "UACME",
                                           "Invoices reconcile only after a manual ledger fix"))
    assert private.is_private
    # in Globex's channel, even the asker alone never sees Acme's words
    in_globex = answer(bot, "invoices reconcile ledger", "CGLOB")
    assert "never reconcile" not in in_globex and "manual ledger" not in in_globex
    # in Acme's own channel and in the internal public channel they are there
    assert "never reconcile" in answer(bot, "invoices reconcile ledger", "CACME")
    in_general = answer(bot, "invoices reconcile ledger", "C1")
    assert "never reconcile" in in_general
    assert "manual ledger" not in in_general  # private origin: shown only where said
    # forged buttons from Globex's channel: full text, paging, share
    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("voice_full", json.dumps({"id": acme.id}),
                                   channel_id="CGLOB", response_url=hook))
    (full,) = bot.responses(hook)
    assert "not available here" in full["text"] and bot.slack.calls_to("views.open") == []
    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("voice_share", json.dumps({"id": acme.id}),
                                   channel_id="CGLOB", response_url=hook))
    (shared,) = bot.responses(hook)
    assert "shared with another organisation" in shared["text"]
    # even when the admin lets partners see their own people's quotes
    bot.services.workspaces.update("T0001", connect_share_own=True)
    bot.event(signing.app_mention("<@UBOT> invoices reconcile ledger", "U1", "CGLOB",
                                  bot.slack.next_ts()))
    bot.event(signing.app_mention("<@UBOT> invoices reconcile ledger", "U1", "CACME",
                                  bot.slack.next_ts()))
    assert eventually(lambda: [p for p in posts_in(bot, "CACME") if p.get("thread_ts")])
    assert eventually(lambda: [p for p in posts_in(bot, "CGLOB") if p.get("thread_ts")]
                      or bot.slack.calls_to("chat.postEphemeral"), timeout=5)
    assert all("never reconcile" not in json.dumps(p) for p in posts_in(bot, "CGLOB"))
    assert any("never reconcile" in json.dumps(p) for p in posts_in(bot, "CACME"))


# -- storage, on SQLite and PostgreSQL --------------------------------------------------------

def test_listening_state_and_the_one_announcement_on_every_database(services) -> None:  # type: ignore[no-untyped-def]
    listening = services.listening
    assert not listening.state("T1", "CA").enabled and not listening.claim_announcement(
        "T1", "CA")  # nothing to announce where listening was never turned on
    listening.turn("T1", "CA", True, by="UADM")
    listening.turn("T1", "CB", True, by="UADM")
    assert listening.claim_announcement("T1", "CA")
    assert not listening.claim_announcement("T1", "CA")  # a second replica, or a retry
    listening.announcement_failed("T1", "CB")  # could not be posted: off, and still owed
    assert not listening.is_on("T1", "CB") and listening.claim_announcement("T1", "CB")
    listening.turn("T1", "CA", False, by="U2")
    listening.turn("T1", "CA", True, by="U3")
    state = listening.state("T1", "CA")
    assert state.enabled and state.changed_by == "U3" and state.announced_at is not None
    assert not listening.claim_announcement("T1", "CA")  # announced once, ever
    assert listening.channels("T1") == ["CA"] and listening.channels("T2") == []
