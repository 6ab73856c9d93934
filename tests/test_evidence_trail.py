"""The evidence trail over HTTP: quotes brought into a thread are remembered (linked, never
copied), `@voicebot evidence` lists them, and a quote's full view says where it was cited,
only where the viewer can see."""

from __future__ import annotations

import json
import time

from sqlalchemy import update

from store.models import Quote
from store.queries.quotes import NewQuote
from tests.fakes import signing
from tests.slack_harness import Bot, assert_valid_message, assert_valid_view

THREAD = "1700000800.000100"


def seed(bot: Bot, text: str, speaker: str, **kw) -> int:  # type: ignore[no-untyped-def]
    return bot.services.capture.save(NewQuote(team_id="T0001", text=text,
                                              speaker_name=speaker, **kw)).quote.id


def mention(bot: Bot, text: str, ts: str, thread: str = THREAD, channel: str = "C1",
            user: str = "U1") -> None:
    bot.event(signing.app_mention(f"<@UBOT> {text}", user, channel, ts, thread_ts=thread))


def cited(bot: Bot, count: int, thread: str = THREAD, channel: str = "C1") -> None:
    """Wait until ``count`` quotes are on the thread's trail: the bot records a use right
    after its post reaches Slack, so the fake seeing the post does not mean it is recorded."""
    deadline = time.monotonic() + 10
    while len(bot.services.usage.thread_evidence("T0001", channel, thread)) < count:
        assert time.monotonic() < deadline, f"{count} quotes never reached the trail"
        time.sleep(0.02)


def share_in_thread(bot: Bot, topic: str, thread: str, channel: str = "C1",
                    user: str = "U2") -> None:
    _, hook = bot.command(topic, channel_id=channel, user_id=user)
    (reply,) = bot.responses(hook)
    share = next(b for b in reply["blocks"] if b["type"] == "actions")["elements"][0]
    container = {"type": "message", "message_ts": "1700000950.000100", "channel_id": channel,
                 "is_ephemeral": True, "thread_ts": thread}
    bot.send(signing.block_actions("voice_share", share["value"], response_url=hook,
                                   channel_id=channel, user_id=user, container=container))


def test_evidence_lists_every_quote_brought_into_the_thread(bot: Bot) -> None:
    seed(bot, "Notifications are way too noisy on mobile", "Ana")
    seed(bot, "The invoice search never finds last year's invoices", "Bo")
    seed(bot, "I love the new calendar view", "Cy")
    mention(bot, "speaker:Ana noisy notifications", "1700000900.000200")
    bot.slack.wait_for("chat.postMessage")
    cited(bot, 1)
    share_in_thread(bot, "speaker:Bo invoice search", THREAD)
    bot.slack.wait_for("chat.postMessage", count=2)
    cited(bot, 2)

    mention(bot, "evidence", "1700001000.000300")
    posts = bot.slack.wait_for("chat.postMessage", count=3)
    answer = posts[-1].params
    assert answer["thread_ts"] == THREAD
    assert_valid_message(answer)
    text = json.dumps(answer["blocks"])
    assert "Evidence in this thread:* 2 user quotes from 2 people" in text
    assert text.index("Notifications are way too noisy") < text.index("invoice search never")
    assert "calendar view" not in text
    assert "brought in by <@U1>" in text and "brought in by <@U2>" in text

    mention(bot, "evidence", "1700001100.000400", thread="1700001050.000100")
    other = bot.slack.wait_for("chat.postMessage", count=4)[-1].params
    assert "No user quotes have been brought into this thread yet" in other["text"]


def test_evidence_leaves_out_deleted_and_since_private_quotes(bot: Bot) -> None:
    gone = seed(bot, "Exports time out on big boards", "Ana")
    hidden = seed(bot, "Exporting to CSV takes forever", "Bo")
    mention(bot, "export", "1700000900.000200")
    (first,) = bot.slack.wait_for("chat.postMessage")
    assert "Exports time out" in json.dumps(first.params) and "CSV" in json.dumps(first.params)
    cited(bot, 2)
    assert bot.services.deletion.delete("T0001", gone, by="U1")
    with bot.services.sessions.begin() as s:  # its capturer took it back to its channel
        s.execute(update(Quote).where(Quote.id == hidden).values(
            is_private=True, shareable=False, channel_id="CPRIV"))
    mention(bot, "evidence", "1700001000.000300")
    answer = bot.slack.wait_for("chat.postMessage", count=2)[-1].params
    assert "No user quotes have been brought into this thread yet" in answer["text"]
    assert "Exports time out" not in json.dumps(answer) and "CSV" not in json.dumps(answer)


def test_markup_in_an_evidence_quote_is_escaped(bot: Bot) -> None:
    seed(bot, "Pricing <!channel> is *confusing* <https://evil.test|click>", "Ana")
    mention(bot, "pricing confusing", "1700000900.000200")
    bot.slack.wait_for("chat.postMessage")
    cited(bot, 1)
    mention(bot, "evidence", "1700001000.000300")
    answer = bot.slack.wait_for("chat.postMessage", count=2)[-1].params
    raw = json.dumps(answer)
    assert "<!channel>" not in raw and "<https://evil.test" not in raw
    assert "&lt;!channel&gt;" in raw


def test_full_quote_says_where_it_was_cited_only_where_the_viewer_can_see(bot: Bot) -> None:
    seed(bot, "Bulk editing tags would save me an hour a week", "Ana")
    mention(bot, "bulk edit tags", "1700000900.000200", channel="C1")
    bot.slack.wait_for("chat.postMessage")
    mention(bot, "bulk edit tags", "1700000910.000200", thread="1700000905.000100",
            channel="CPRIV")
    bot.slack.wait_for("chat.postMessage", count=2)
    cited(bot, 1)
    cited(bot, 1, thread="1700000905.000100", channel="CPRIV")

    def full_view(channel: str) -> dict:
        _, hook = bot.command("bulk edit tags", channel_id=channel)
        (reply,) = bot.responses(hook)
        full = next(e for b in reply["blocks"] if b["type"] == "actions"
                    for e in b["elements"] if e["action_id"] == "voice_full")
        before = len(bot.slack.calls_to("views.open"))
        bot.send(signing.block_actions("voice_full", full["value"], response_url=hook,
                                       channel_id=channel))
        view = bot.slack.wait_for("views.open", count=before + 1)[-1].params["view"]
        assert_valid_view(view)
        return view

    public = json.dumps(full_view("CPROD"))
    assert "Brought into 1 debate" in public and "<#C1>" in public
    assert "CPRIV" not in public
    private = json.dumps(full_view("CPRIV"))
    assert "Brought into 2 debates" in private and "<#CPRIV>" in private


def test_a_quote_never_cited_shows_no_trail_line(bot: Bot) -> None:
    seed(bot, "Dark mode please, my eyes hurt", "Ana")
    _, hook = bot.command("dark mode", channel_id="C1")
    (reply,) = bot.responses(hook)
    full = next(e for b in reply["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == "voice_full")
    bot.send(signing.block_actions("voice_full", full["value"], response_url=hook))
    view = bot.slack.wait_for("views.open")[-1].params["view"]
    assert "Brought into" not in json.dumps(view)
