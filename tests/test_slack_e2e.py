"""End to end: signed HTTP requests in, Web API calls out, quotes stored."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.slack.views.modals import CAPTURE_CALLBACK
from store.models import Quote
from store.queries.quotes import NewQuote
from tests.fakes import signing
from tests.slack_harness import Bot, assert_valid_message, assert_valid_view


def eventually(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    """Poll ``check`` until it returns a truthy value (work continues after ack())."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(0.05)


def quote_count(bot: Bot) -> int:
    with bot.services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Quote)))


def seed(bot: Bot, texts: list[tuple[str, str]], **kw) -> None:  # type: ignore[no-untyped-def]
    bot.services.imports.import_quotes(
        [(i, NewQuote(team_id="T0001", text=t, speaker_name=s, company=f"Co {s}", **kw))
         for i, (t, s) in enumerate(texts)])


def test_health_and_signatures(bot: Bot) -> None:
    import urllib.request

    with urllib.request.urlopen(bot.url + "/healthz") as r:
        assert r.status == 200 and r.read() == b"ready"
    assert bot.command("export", secret="wrong-secret")[0].status == 401
    stale = int(time.time()) - 6 * 60
    assert bot.command("export", timestamp=stale)[0].status == 401
    body, ctype = signing.slash_command("export", response_url="http://x")
    assert signing.post(bot.url + "/slack/events", body, ctype, None).status == 401
    assert bot.slack.calls_to("response_url") == []


def test_voice_help_and_bad_topics_answer_in_the_ack(bot: Bot) -> None:
    for text in ("", "help"):
        resp, _ = bot.command(text)
        assert resp.status == 200 and "/voice <topic>" in resp.json()["text"]
    resp, _ = bot.command("x" * 5000)
    assert "5,000 characters" in resp.json()["text"]
    resp, _ = bot.command("segmnt:smb onboarding")
    assert "Did you mean `segment:`" in json.dumps(resp.json())
    resp, _ = bot.command("emotion:angry since:2026-02-30 billing")
    text = json.dumps(resp.json())
    assert "not an emotion" in text and "not a date" in text


def test_voice_returns_verbatim_quotes_with_breadth(bot: Bot) -> None:
    seed(bot, [("The CSV export times out on big boards", "Ana"),
               ("Exporting to CSV is slow and times out", "Bo"),
               ("I love the new dark mode", "Cy")])
    resp, hook = bot.command("csv export times out")
    assert resp.status == 200 and resp.elapsed < 3
    (reply,) = bot.responses(hook)
    assert reply["response_type"] == "ephemeral"
    assert_valid_message(reply)
    text = json.dumps(reply["blocks"])
    assert "The CSV export times out on big boards" in text
    assert "matching quote" in text and "Ana" in text and "Co Ana" in text
    assert any(b["type"] == "actions" and b["elements"][0]["action_id"] == "voice_share"
               for b in reply["blocks"])


def test_no_match_suggests_capturing(bot: Bot) -> None:
    resp, hook = bot.command("pricing")
    (reply,) = bot.responses(hook)
    assert "No user quotes about" in reply["text"] and ":loudspeaker:" in reply["text"]


def test_long_quote_is_visibly_shortened_with_link(bot: Bot) -> None:
    long_text = "The export is slow. " + "word " * 400 + "THE END"
    bot.services.capture.save(NewQuote(team_id="T0001", text=long_text, speaker_name="Dee",
                                      source_url="https://tickets.example/1"))
    _, hook = bot.command("export slow")
    (reply,) = bot.responses(hook)
    assert_valid_message(reply)
    text = json.dumps(reply["blocks"])
    assert "THE END" not in text and "shortened" in text
    assert "https://tickets.example/1|read the whole quote" in text


def test_share_posts_the_quote_in_the_channel(bot: Bot) -> None:
    seed(bot, [("Search never finds my old invoices", "Ana")])
    _, hook = bot.command("invoices search")
    (reply,) = bot.responses(hook)
    share = next(b for b in reply["blocks"] if b["type"] == "actions")["elements"][0]
    bot.send(signing.block_actions("voice_share", share["value"], response_url=hook))
    (post,) = bot.slack.wait_for("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert "Search never finds my old invoices" in json.dumps(post.params["blocks"])
    assert_valid_message(post.params)


def test_twenty_concurrent_voice_requests_are_acked_in_time(bot: Bot) -> None:
    seed(bot, [(f"quote {i} about onboarding pain", f"P{i}") for i in range(50)])
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda i: bot.command(f"onboarding {i}"), range(20)))
    assert all(r.status == 200 and r.elapsed < 3 for r, _ in results)
    bot.slack.wait_for("response_url", count=20, timeout=30)


def test_reaction_captures_a_thread_reply_not_its_parent(bot: Bot) -> None:
    parent = bot.slack.add_message("C1", "Parent message from the team", user="U1")
    reply_ts = bot.slack.add_message("C1", "Honestly the setup wizard lost my data twice",
                                     user="UCUST", thread_ts=parent)
    resp = bot.event(signing.reaction_added("U2", "loudspeaker", "C1", reply_ts, "UCUST"))
    assert resp.status == 200
    (eph,) = bot.slack.wait_for("chat.postEphemeral")
    assert_valid_message(eph.params)
    assert "Saved as a user voice" in eph.params["text"]
    with bot.services.sessions() as s:
        quote = s.scalars(select(Quote)).one()
    assert quote.text == "Honestly the setup wizard lost my data twice"
    assert (quote.speaker_name, quote.speaker_user_id, quote.captured_by) == \
        ("Casey Customer", "UCUST", "U2")
    assert quote.message_ts == reply_ts and quote.thread_ts == parent
    assert quote.source_url.startswith("https://fake.slack.test/archives/C1/p")
    assert not quote.is_private


def test_capture_is_idempotent_across_retries_and_people(bot: Bot) -> None:
    ts = bot.slack.add_message("C1", "Why does billing email me twice?", user="UCUST")
    event = signing.reaction_added("U1", "loudspeaker", "C1", ts)
    body = signing.event_callback(event, event_id="Ev1")
    bot.send(body)
    bot.send(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    bot.event(signing.reaction_added("U2", "loudspeaker", "C1", ts))
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
    bot.slack.wait_for("chat.postEphemeral", count=3)
    time.sleep(0.3)
    assert quote_count(bot) == 1
    texts = [c.params["text"] for c in bot.slack.calls_to("chat.postEphemeral")]
    assert sorted(t.split()[0] for t in texts) == ["Already", "Already", "Saved"]
    assert len(bot.services.indexes.get("T0001")) == 1


def test_other_emoji_and_file_reactions_are_ignored(bot: Bot) -> None:
    ts = bot.slack.add_message("C1", "hello", user="UCUST")
    bot.event(signing.reaction_added("U1", "thumbsup", "C1", ts))
    file_event = signing.reaction_added("U1", "loudspeaker", "C1", ts)
    file_event["item"] = {"type": "file", "file": "F1"}
    assert bot.event(file_event).status == 200
    time.sleep(0.5)
    assert quote_count(bot) == 0 and bot.slack.calls_to("reactions.get") == []


def test_bot_messages_get_a_sensible_speaker(bot: Bot) -> None:
    ts = bot.slack.add_message("C1", "New Zendesk ticket: export broken", user=None,
                               bot_id="B9", username="Zendesk", subtype="bot_message")
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
    bot.slack.wait_for("chat.postEphemeral")
    with bot.services.sessions() as s:
        quote = s.scalars(select(Quote)).one()
    assert quote.speaker_name == "Zendesk" and quote.speaker_user_id is None


def test_unreadable_channel_tells_the_user_how_to_fix_it(bot: Bot) -> None:
    bot.slack.add_channel("CNO", "no-bot", is_member=False)
    ts = bot.slack.add_message("CNO", "I can't find the export", user="UCUST")
    bot.event(signing.reaction_added("U1", "loudspeaker", "CNO", ts))
    (dm,) = bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U1" and "/invite @voicebot" in dm.params["text"]
    assert quote_count(bot) == 0


def test_private_quote_stays_in_its_conversation(bot: Bot) -> None:
    ts = bot.slack.add_message("CPRIV", "Our renewal depends on SSO support", user="UCUST")
    bot.event(signing.reaction_added("U1", "loudspeaker", "CPRIV", ts))
    bot.slack.wait_for("chat.postEphemeral")
    _, hook = bot.command("renewal sso support", channel_id="C1")
    (public,) = bot.responses(hook)
    assert "Our renewal depends on SSO" not in json.dumps(public)
    _, hook = bot.command("renewal sso support", channel_id="CPRIV")
    (private,) = bot.responses(hook)
    assert "Our renewal depends on SSO support" in json.dumps(private["blocks"])


def test_shortcut_opens_prefilled_modal_and_validates_excerpt(bot: Bot) -> None:
    message = {"type": "message", "user": "U2", "ts": "1700000500.000100",
               "text": "Customer said: the audit log is impossible to filter, they gave up."}
    bot.slack.add_channel("CNOTMEMBER", "sales", is_member=False)
    bot.slack.fail("chat.postEphemeral", "not_in_channel")
    bot.send(signing.message_action("save_user_voice", message, channel_id="CNOTMEMBER"))
    (opened,) = bot.slack.wait_for("views.open")
    view = opened.params["view"]
    assert_valid_view(view)
    assert view["callback_id"] == CAPTURE_CALLBACK
    values = {"excerpt": {"value": {"type": "plain_text_input", "value": "not in the message"}}}
    resp = bot.send(signing.view_submission(CAPTURE_CALLBACK, values,
                                            private_metadata=view["private_metadata"]))
    assert resp.json()["response_action"] == "errors" and "excerpt" in resp.json()["errors"]
    values = {
        "excerpt": {"value": {"type": "plain_text_input",
                              "value": "the audit log is impossible to filter"}},
        "speaker": {"value": {"type": "plain_text_input", "value": "Jo at Initech"}},
        "company": {"value": {"type": "plain_text_input", "value": "Initech"}},
        "hand": {"value": {"type": "radio_buttons",
                           "selected_option": {"value": "relayed"}}},
    }
    resp = bot.send(signing.view_submission(CAPTURE_CALLBACK, values,
                                            private_metadata=view["private_metadata"]))
    assert resp.status == 200 and resp.text in ("", "{}")
    bot.slack.wait_for("chat.postMessage")  # bot not in channel: confirmation by DM
    with bot.services.sessions() as s:
        quote = s.scalars(select(Quote)).one()
    assert quote.text == "the audit log is impossible to filter"
    assert not quote.first_hand and quote.relayed_by == "Bo Teammate"
    assert quote.speaker_name == "Jo at Initech" and quote.company == "Initech"
    _, hook = bot.command("audit log filter", channel_id="C1")
    (reply,) = bot.responses(hook)
    assert "relayed by Bo Teammate" in json.dumps(reply["blocks"])


def test_mention_in_thread_replies_in_the_thread(bot: Bot) -> None:
    seed(bot, [("Notifications are way too noisy", "Ana")])
    bot.event(signing.app_mention("<@UBOT> noisy notifications", "U1", "C1",
                                  "1700000900.000200", thread_ts="1700000800.000100"))
    (post,) = bot.slack.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1700000800.000100"
    assert "Notifications are way too noisy" in json.dumps(post.params["blocks"])
    assert_valid_message(post.params)


def test_edits_and_deletes_follow_the_message(bot: Bot) -> None:
    ts = bot.slack.add_message("C1", "Reports are slow", user="UCUST")
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
    bot.slack.wait_for("chat.postEphemeral")
    bot.event({"type": "message", "subtype": "message_changed", "channel": "C1",
               "message": {"type": "message", "user": "UCUST", "text": "Reports are very slow",
                           "ts": ts}, "event_ts": ts})
    def edited() -> bool:
        with bot.services.sessions() as s:
            return s.scalars(select(Quote.text)).one() == "Reports are very slow"

    assert eventually(edited), "edit not applied"
    bot.event({"type": "message", "subtype": "message_deleted", "channel": "C1",
               "deleted_ts": ts, "event_ts": ts})
    assert eventually(lambda: quote_count(bot) == 0)
    assert quote_count(bot) == 0 and len(bot.services.indexes.get("T0001")) == 0


def test_app_home_publishes_counts_and_settings(bot: Bot) -> None:
    seed(bot, [("I wish onboarding had a checklist", "Ana")])
    bot.event(signing.app_home_opened("UADM"))
    (pub,) = bot.slack.wait_for("views.publish")
    assert_valid_view(pub.params["view"])
    text = json.dumps(pub.params["view"])
    assert "*1* quotes" in text and "I wish onboarding had a checklist" in text
    assert "home_settings" in text


def test_malformed_payloads_do_not_crash(bot: Bot) -> None:
    assert bot.send(('{"type": "event_callback"', "application/json")).status in (400, 401, 404)
    assert bot.send(("payload=%7Bnot-json", "application/x-www-form-urlencoded")).status in (
        400, 401, 404)
    resp = bot.send(signing.block_actions("voice_more", "{garbage", response_url=
                                          bot.slack.new_response_url()))
    assert resp.status == 200
    resp = bot.send(signing.block_actions("unknown_action", "1"))
    assert resp.status == 404
    with __import__("urllib.request").request.urlopen(bot.url + "/healthz") as r:
        assert r.status == 200


def test_edit_details_button_opens_modal_and_saves(bot: Bot) -> None:
    ts = bot.slack.add_message("C1", "Pricing page is confusing", user="UCUST")
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
    (eph,) = bot.slack.wait_for("chat.postEphemeral")
    edit = next(e for b in eph.params["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == "quote_edit")
    bot.send(signing.block_actions("quote_edit", edit["value"]))
    (opened,) = bot.slack.wait_for("views.open")
    view = opened.params["view"]
    values = {"speaker": {"value": {"type": "plain_text_input", "value": "Casey C."}},
              "company": {"value": {"type": "plain_text_input", "value": "Globex"}},
              "segment": {"value": {"type": "plain_text_input", "value": "enterprise"}},
              "emotion": {"value": {"type": "static_select",
                                    "selected_option": {"value": "confused"}}},
              "hand": {"value": {"type": "radio_buttons",
                                 "selected_option": {"value": "first_hand"}}}}
    resp = bot.send(signing.view_submission(view["callback_id"], values,
                                            private_metadata=view["private_metadata"]))
    assert resp.status == 200

    def updated():  # type: ignore[no-untyped-def]
        with bot.services.sessions() as s:
            quote = s.scalars(select(Quote)).one()
        return quote if quote.emotion == "confused" else None

    quote = eventually(updated)
    assert quote is not None
    assert (quote.speaker_name, quote.company, quote.segment, quote.emotion, quote.emotion_by) \
        == ("Casey C.", "Globex", "enterprise", "confused", "U1")
    assert quote.text == "Pricing page is confusing"  # the words never change


def test_only_capturer_or_admin_can_delete(bot: Bot) -> None:
    ts = bot.slack.add_message("C1", "Sync breaks offline", user="UCUST")
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
    bot.slack.wait_for("chat.postEphemeral")
    with bot.services.sessions() as s:
        quote_id = s.scalars(select(Quote.id)).one()
    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("quote_delete", str(quote_id), user_id="U2",
                                   response_url=hook))
    (refused,) = bot.responses(hook)
    assert "Only the person who captured" in refused["text"] and quote_count(bot) == 1
    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("quote_delete", str(quote_id), user_id="U1",
                                   response_url=hook))
    (done,) = bot.responses(hook)
    assert done["text"].startswith("Deleted") and quote_count(bot) == 0


def test_web_api_429_and_errors_never_lose_a_capture(bot: Bot) -> None:
    ts = bot.slack.add_message("C1", "Import from Jira keeps failing", user="UCUST")
    bot.slack.rate_limit("reactions.get", retry_after=0)
    bot.slack.fail("users.info", "fatal_error")
    bot.slack.server_error("chat.getPermalink", status=503)
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
    bot.slack.wait_for("chat.postEphemeral", timeout=10)
    with bot.services.sessions() as s:
        quote = s.scalars(select(Quote)).one()
    assert quote.text == "Import from Jira keeps failing"
    assert len(bot.slack.calls_to("reactions.get")) == 2  # retried after the 429
    assert quote.speaker_user_id == "UCUST"  # users.info failed: the id still attributes it


def test_unicode_and_emoji_topics(bot: Bot) -> None:
    seed(bot, [("Die Synchronisierung ist sehr langsam 🐢", "Ana"),
               ("同期がとても遅いです", "Bo")])
    for topic in ("Synchronisierung langsam", "同期 遅い", "🐢", "e\u0301xport"):
        resp, hook = bot.command(topic)
        assert resp.status == 200
        (reply,) = bot.responses(hook)
        assert reply["text"]


def test_settings_modal_changes_the_capture_emoji(bot: Bot) -> None:
    bot.send(signing.block_actions("home_settings", "settings", user_id="UADM"))
    (opened,) = bot.slack.wait_for("views.open")
    view = opened.params["view"]
    bad = {"emoji": {"value": {"type": "plain_text_input", "value": "not an emoji!"}},
           "day": {"value": {"type": "static_select", "selected_option": {"value": "0"}}},
           "time": {"value": {"type": "plain_text_input", "value": "09:00"}},
           "tz": {"value": {"type": "plain_text_input", "value": "UTC"}}}
    resp = bot.send(signing.view_submission(view["callback_id"], bad, user_id="UADM"))
    assert resp.json()["response_action"] == "errors"
    good = dict(bad, emoji={"value": {"type": "plain_text_input", "value": ":star:"}})
    assert bot.send(signing.view_submission(view["callback_id"], good,
                                            user_id="UADM")).status == 200
    bot.slack.wait_for("views.publish")
    ts = bot.slack.add_message("C1", "Love the new timeline view", user="UCUST")
    bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
    bot.event(signing.reaction_added("U1", "star", "C1", ts))
    bot.slack.wait_for("chat.postEphemeral")
    assert quote_count(bot) == 1


def test_replayed_request_is_refused(bot: Bot) -> None:
    ts = int(time.time())
    body = signing.slash_command("billing", response_url=bot.slack.new_response_url())
    assert bot.send(body, timestamp=ts).status == 200
    assert bot.send(body, timestamp=ts).status == 401


def test_shown_quotes_mask_personal_data_but_storage_keeps_it(bot: Bot) -> None:
    text = "Call me at +1 415 555 0199 or mail jo@acme.io, the invoice export is broken"
    bot.services.capture.save(NewQuote(team_id="T0001", text=text, speaker_name="Jo"))
    _, hook = bot.command("invoice export broken")
    (reply,) = bot.responses(hook)
    shown = json.dumps(reply["blocks"])
    assert "[phone hidden]" in shown and "[email hidden]" in shown
    assert "555 0199" not in shown and "jo@acme.io" not in shown
    with bot.services.sessions() as s:
        assert s.scalars(select(Quote.text)).one() == text


def test_voice_digest_settings_command(bot: Bot) -> None:
    def digest(text: str, **kw) -> str:  # type: ignore[no-untyped-def]
        resp, hook = bot.command(text, user_id="UADM", **kw)
        assert resp.status == 200
        (reply,) = bot.responses(hook)
        return str(reply["text"])

    assert "digest is *off*" in digest("digest")
    text = digest("digest here fri 16:30 Europe/Paris", channel_id="CPROD")
    assert "<#CPROD>" in text and "Fridays at 16:30 (Europe/Paris)" in text
    assert "not a time zone" in digest("digest here Mars/Olympus")
    assert bot.services.workspaces.get("T0001").digest_timezone == "Europe/Paris"
    assert "digest is *off*" in digest("digest off")


def test_show_more_pages_through_results(bot: Bot) -> None:
    seed(bot, [(f"Offline mode problem number {i}", f"P{i}") for i in range(12)])
    _, hook = bot.command("offline mode problem")
    (first,) = bot.responses(hook)
    more = next(e for b in first["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == "voice_more")
    bot.send(signing.block_actions("voice_more", more["value"], response_url=hook))
    first_ids = {b["block_id"] for b in first["blocks"]
                 if b.get("block_id", "").startswith("quote_")
                 and not b["block_id"].startswith("quote_actions")}
    replies = bot.responses(hook, count=2)
    second = replies[1]
    assert second["replace_original"] is True
    second_ids = {b["block_id"] for b in second["blocks"]
                  if b.get("block_id", "").startswith("quote_")
                  and not b["block_id"].startswith("quote_actions")}
    assert len(first_ids) == 5 and len(second_ids) == 5 and not first_ids & second_ids
    assert "*6.*" in json.dumps(second["blocks"])


def test_topics_containing_the_word_payload_are_searched(bot: Bot) -> None:
    seed(bot, [("The webhook payload is missing the customer id", "Ana")])
    resp, hook = bot.command("webhook payload")
    assert resp.status == 200
    (reply,) = bot.responses(hook)
    assert "The webhook payload is missing" in json.dumps(reply["blocks"])
