"""Evidence offered where it is argued, over HTTP: `/voice suggest here|off`, an offer to
whoever speaks for users when the evidence is strong, and everything that keeps it quiet
(off by default, one per thread, a daily cap, never in shared channels, never on bots'
messages, never a quote that may not be shown there), and the offer's buttons."""

from __future__ import annotations

import itertools
import json
import time

from store.queries.quotes import NewQuote
from tests.fakes import signing
from tests.slack_harness import Bot, assert_valid_message
from tests.test_slack_e2e import eventually

_ts = itertools.count(1)


def ts() -> str:
    return f"17000{next(_ts):05d}.000100"


def seed_topic(bot: Bot, **kw) -> None:  # type: ignore[no-untyped-def]
    # Near-identical words: the tests' hashing embedder only matches close wording.
    for speaker, text in (("Ana", "bulk tag editing please"),
                          ("Bo", "bulk tag editing!"),
                          ("Cy", "bulk tag editing now")):
        bot.services.capture.save(NewQuote(team_id="T0001", text=text, speaker_name=speaker,
                                           company=f"{speaker} Corp", **kw))


def say(bot: Bot, text: str, *, user: str = "U1", channel: str = "C1",
        thread: str | None = None, **extra) -> str:  # type: ignore[no-untyped-def]
    stamp = ts()
    event = {"type": "message", "user": user, "channel": channel, "ts": stamp, "text": text,
             "channel_type": "channel", **extra}
    if thread:
        event["thread_ts"] = thread
    assert bot.event(event).status == 200
    return stamp


def suggest(bot: Bot, args: str, *, user: str = "UADM", channel: str = "C1") -> str:
    _, hook = bot.command(f"suggest {args}".strip(), user_id=user, channel_id=channel)
    (reply,) = bot.responses(hook)
    return str(reply["text"])


def offers(bot: Bot) -> list[dict]:
    return [c.params for c in bot.slack.calls_to("chat.postEphemeral")
            if "talked about" in str(c.params.get("text"))]


def wait_offers(bot: Bot, n: int) -> list[dict]:
    found = eventually(lambda: len(offers(bot)) >= n and offers(bot))
    assert found, f"expected {n} offers, got {len(offers(bot))}"
    time.sleep(0.3)  # a wrong extra offer would arrive about now
    return offers(bot)


def test_offer_in_an_enabled_channel_with_its_buttons(bot: Bot) -> None:
    seed_topic(bot)
    assert "off" in suggest(bot, "")
    assert "Only" in suggest(bot, "here", user="U1")  # not an admin: refused
    assert "are on" in suggest(bot, "here")
    stamp = say(bot, "honestly users want bulk tag editing, it keeps coming up")
    (offer,) = wait_offers(bot, 1)
    assert offer["user"] == "U1" and offer["channel"] == "C1" and offer["thread_ts"] == stamp
    assert "3 users at 3 companies talked about \u201cbulk tag editing" in offer["text"]
    assert_valid_message(offer)
    buttons = {e["action_id"]: e["value"] for b in offer["blocks"] if b["type"] == "actions"
               for e in b["elements"]}
    assert set(buttons) == {"offer_show", "offer_share", "offer_not_helpful"}

    # Someone else clicking (a forwarded or forged payload) is refused.
    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("offer_share", buttons["offer_share"], user_id="U2",
                                   response_url=hook))
    (refusal,) = bot.responses(hook)
    assert "made to someone else" in refusal["text"]
    # The same click from another channel is refused too.
    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("offer_share", buttons["offer_share"], channel_id="CPROD",
                                   response_url=hook))
    assert "made to someone else" in bot.responses(hook)[0]["text"]
    assert not bot.slack.calls_to("chat.postMessage")

    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("offer_show", buttons["offer_show"], response_url=hook))
    (shown,) = bot.responses(hook)
    assert "bulk tag editing!" in json.dumps(shown["blocks"])

    hook = bot.slack.new_response_url()
    container = {"type": "message", "message_ts": ts(), "channel_id": "C1",
                 "is_ephemeral": True, "thread_ts": stamp}
    bot.send(signing.block_actions("offer_share", buttons["offer_share"], response_url=hook,
                                   container=container))
    posts = bot.slack.wait_for("chat.postMessage", count=3)
    assert all(p.params["thread_ts"] == stamp and p.params["channel"] == "C1" for p in posts)
    assert "Shared 3 user quotes" in bot.responses(hook)[0]["text"]
    assert len(bot.services.usage.thread_evidence("T0001", "C1", stamp)) == 3

    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("offer_not_helpful", buttons["offer_not_helpful"],
                                   response_url=hook))
    assert "noted" in bot.responses(hook)[0]["text"]
    counts = bot.services.suggestions.counts("T0001")
    assert (counts.made, counts.not_helpful) == (1, 1)
    assert "1 marked not helpful" in suggest(bot, "")


def test_no_offer_when_off_or_a_second_claim_or_past_the_cap(bot: Bot) -> None:
    seed_topic(bot)
    say(bot, "users want bulk tag editing")  # off: nothing
    suggest(bot, "here")
    first = say(bot, "customers need bulk tag editing")
    wait_offers(bot, 1)
    say(bot, "nobody wants bulk tag editing", thread=first)  # same thread: nothing more
    bot.services.suggestions.daily_cap = 2
    say(bot, "users really want bulk tag editing")  # a new thread: offered (2 of 2 today)
    assert len(wait_offers(bot, 2)) == 2
    say(bot, "people hate tagging without bulk tag editing")  # past the cap: nothing
    say(bot, "customers keep asking for bulk tag editing", channel="CPROD")  # off there
    time.sleep(1.0)
    assert len(offers(bot)) == 2
    assert "are off" in suggest(bot, "off")
    say(bot, "users want bulk tag editing", user="U2")
    time.sleep(1.0)
    assert len(offers(bot)) == 2


def test_never_in_a_shared_channel_on_bots_or_on_questions(bot: Bot) -> None:
    seed_topic(bot)
    bot.slack.add_channel("CEXT", "acme-shared", is_ext_shared=True, is_shared=True)
    assert "never made in channels shared" in suggest(bot, "here", channel="CEXT")
    bot.services.suggestions.turn("T0001", "CEXT", True, by="UADM")  # even if it were on
    say(bot, "users want bulk tag editing", channel="CEXT")
    suggest(bot, "here")
    say(bot, "users want bulk tag editing", bot_id="B1")
    say(bot, "users want bulk tag editing", subtype="bot_message")
    say(bot, "do users want bulk tag editing?")
    say(bot, "users want bulk tag editing", subtype="message_changed")
    say(bot, "customers want bulk tag editing", user="U2")  # the one that is offered
    (offer,) = wait_offers(bot, 1)
    assert offer["user"] == "U2"
    time.sleep(0.5)
    assert len(offers(bot)) == 1


def test_quotes_that_may_not_be_shown_here_are_not_evidence(bot: Bot) -> None:
    seed_topic(bot, is_private=True, channel_id="CPRIV")
    suggest(bot, "here")
    suggest(bot, "here", channel="CPRIV")
    say(bot, "users want bulk tag editing")  # in public C1: the private quotes don't count
    say(bot, "users want bulk tag editing", channel="CPRIV")
    (offer,) = wait_offers(bot, 1)
    assert offer["channel"] == "CPRIV"
    time.sleep(0.5)
    assert len(offers(bot)) == 1


def test_app_home_lists_channels_with_offers(bot: Bot) -> None:
    suggest(bot, "here")
    suggest(bot, "here", channel="CPROD")
    bot.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    (published,) = bot.slack.wait_for("views.publish")
    text = json.dumps(published.params["view"])
    assert "Evidence offers on in:* <#C1>, <#CPROD>" in text


def test_malformed_offer_buttons_are_refused(bot: Bot) -> None:
    for value in ("offer:0", "offer:abc", "offer:99999", "12", "", "offer:" + "9" * 40):
        hook = bot.slack.new_response_url()
        resp = bot.send(signing.block_actions("offer_show", value, response_url=hook))
        assert resp.status == 200
        assert "out of date" in bot.responses(hook)[0]["text"]
