"""The README's promises under attack: who may change what, forged buttons, shared channels.

Every test drives the real app over HTTP with requests signed as Slack signs them, against
the fake Slack Web API, and checks what the bot sent and stored. A hostile workspace member
is played by U2 ("Bo"), who did not capture anything; UADM is a workspace admin.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.slack.views.modals import EDIT_CALLBACK
from store.models import Quote
from store.queries.quotes import NewQuote
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import Bot, serve_bot
from tests.test_slack_e2e import eventually, quote_count


def capture(bot: Bot, channel: str, text: str, *, by: str = "U1", author: str = "UCUST") -> int:
    """U1 reacts with the capture emoji to ``text`` posted in ``channel``; the quote's id."""
    ts = bot.slack.add_message(channel, text, user=author)
    before = len(bot.slack.calls_to("chat.postEphemeral"))
    bot.event(signing.reaction_added(by, "loudspeaker", channel, ts))
    bot.slack.wait_for("chat.postEphemeral", count=before + 1)
    with bot.services.sessions() as s:
        return int(s.scalar(select(Quote.id).where(Quote.message_ts == ts)))


def stored(bot: Bot, quote_id: int) -> Quote:
    with bot.services.sessions() as s:
        return s.get(Quote, quote_id)


def action_ids(params: dict) -> set[str]:
    return {e.get("action_id") for b in params.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]}


def reply_for(bot: Bot, action: str, value: str, **kw) -> dict:  # type: ignore[no-untyped-def]
    hook = bot.slack.new_response_url()
    assert bot.send(signing.block_actions(action, value, response_url=hook, **kw)).status == 200
    (reply,) = bot.responses(hook)
    return reply


EDIT_VALUES = {
    "speaker": {"value": {"type": "plain_text_input", "value": "Renamed by Bo"}},
    "hand": {"value": {"type": "radio_buttons", "selected_option": {"value": "first_hand"}}},
    "shareable": {"value": {"type": "checkboxes",
                            "selected_options": [{"value": "shareable"}]}},
}


# -- 1. permissions ---------------------------------------------------------------------------

def test_only_capturer_or_admin_may_edit_or_make_a_private_quote_shareable(bot: Bot) -> None:
    quote_id = capture(bot, "CPRIV", "Our renewal depends on the SSO fix")
    first = bot.slack.calls_to("chat.postEphemeral")[-1]
    assert {"quote_edit", "quote_delete"} <= action_ids(first.params)  # the capturer
    # Bo reacts too: "Already saved", without buttons he may not use
    ts = stored(bot, quote_id).message_ts
    bot.event(signing.reaction_added("U2", "loudspeaker", "CPRIV", ts))
    second = bot.slack.wait_for("chat.postEphemeral", count=2)[-1]
    assert second.params["user"] == "U2" and "Already saved" in second.params["text"]
    assert not action_ids(second.params) & {"quote_edit", "quote_delete"}
    # a forged Edit click is refused with a clear message, and no form opens
    refused = reply_for(bot, "quote_edit", str(quote_id), user_id="U2", channel_id="CPRIV")
    assert "Only the person who captured this quote" in refused["text"]
    assert bot.slack.calls_to("views.open") == []
    # a forged form submission (as if the modal had been opened) changes nothing
    meta = json.dumps({"id": quote_id})
    resp = bot.send(signing.view_submission(EDIT_CALLBACK, EDIT_VALUES, private_metadata=meta,
                                            user_id="U2"))
    assert resp.json()["response_action"] == "errors"
    quote = stored(bot, quote_id)
    assert (quote.speaker_name, quote.shareable) != ("Renamed by Bo", True)
    assert quote.shareable is False
    _, hook = bot.command("renewal SSO fix", channel_id="C1", user_id="U2")
    (reply,) = bot.responses(hook)
    assert "renewal depends" not in json.dumps(reply)  # still not shown in public channels
    # the capturer and an admin may
    for user in ("U1", "UADM"):
        resp = bot.send(signing.view_submission(EDIT_CALLBACK, EDIT_VALUES,
                                                private_metadata=meta, user_id=user))
        assert resp.status == 200 and not resp.text
    assert eventually(lambda: stored(bot, quote_id).shareable)


def test_delete_by_non_capturer_is_refused_and_admin_may(bot: Bot) -> None:
    quote_id = capture(bot, "C1", "Sync breaks offline")
    refused = reply_for(bot, "quote_delete", str(quote_id), user_id="U2")
    assert "Only the person who captured" in refused["text"] and quote_count(bot) == 1
    done = reply_for(bot, "quote_delete", str(quote_id), user_id="UADM")
    assert done["text"].startswith("Deleted") and quote_count(bot) == 0


def test_workspace_settings_are_changed_only_by_the_role_admins_pick(bot: Bot) -> None:
    resp, hook = bot.command("digest here monday 09:00 UTC", user_id="U2")
    (reply,) = bot.responses(hook)
    assert "Only workspace admins and owners can change" in reply["text"]
    assert bot.services.workspaces.get("T0001").digest_channel is None
    # the App Home shows no settings button to Bo, and a forged click opens only a refusal
    bot.event(signing.app_home_opened("U2"))
    (home,) = bot.slack.wait_for("views.publish")
    assert "home_settings" not in json.dumps(home.params["view"])
    assert "Only workspace admins and owners" in json.dumps(home.params["view"])
    bot.send(signing.block_actions("home_settings", "settings", user_id="U2"))
    (opened,) = bot.slack.wait_for("views.open")
    assert "callback_id" not in opened.params["view"]
    values = {"emoji": {"value": {"type": "plain_text_input", "value": "poop"}},
              "day": {"value": {"type": "static_select", "selected_option": {"value": "0"}}},
              "time": {"value": {"type": "plain_text_input", "value": "09:00"}},
              "tz": {"value": {"type": "plain_text_input", "value": "UTC"}}}
    resp = bot.send(signing.view_submission("workspace_settings_modal", values, user_id="U2"))
    assert resp.json()["response_action"] == "errors"
    assert bot.services.workspaces.get("T0001").capture_emoji == "loudspeaker"
    # a member cannot widen the role by adding the admin-only field to a forged form
    sneaky = dict(values, role={"value": {"type": "static_select",
                                          "selected_option": {"value": "everyone"}}})
    assert bot.send(signing.view_submission("workspace_settings_modal", sneaky,
                                            user_id="U2")).json()["response_action"] == "errors"
    # an admin opens the form (with the role field) and lets everyone change settings
    bot.send(signing.block_actions("home_settings", "settings", user_id="UADM"))
    (_, admin_form) = bot.slack.wait_for("views.open", count=2)
    assert '"block_id": "role"' in json.dumps(admin_form.params["view"])
    everyone = dict(values, emoji={"value": {"type": "plain_text_input",
                                             "value": "loudspeaker"}},
                    role={"value": {"type": "static_select",
                                    "selected_option": {"value": "everyone"}}})
    assert bot.send(signing.view_submission("workspace_settings_modal", everyone,
                                            user_id="UADM")).status == 200
    assert bot.services.workspaces.get("T0001").settings_role == "everyone"
    resp, hook = bot.command("digest here monday 09:00 UTC", user_id="U2", channel_id="CPROD")
    (reply,) = bot.responses(hook)
    assert "<#CPROD>" in reply["text"]


# -- forged button values ---------------------------------------------------------------------

def test_forged_button_values_never_reach_another_conversation(bot: Bot) -> None:
    private = capture(bot, "CPRIV", "Secret: the Acme deal hinges on audit logs")
    public = capture(bot, "C1", "Audit logs export is missing fields")
    # Show full quote on a private quote, clicked in a public channel
    refused = reply_for(bot, "voice_full", str(private), channel_id="C1")
    assert "not available here" in refused["text"]
    assert bot.slack.calls_to("views.open") == []
    # Show more results naming the private conversation in its value
    value = json.dumps({"q": "audit logs", "o": 5, "c": "CPRIV", "t": None})
    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("voice_more", value, response_url=hook, channel_id="C1"))
    (page,) = bot.responses(hook)
    assert "Acme deal" not in json.dumps(page)
    # Share with a value naming another channel posts where the click came from, if anywhere
    bot.send(signing.block_actions("voice_share", json.dumps({"id": public, "c": "CPROD"}),
                                   channel_id="C1", response_url=bot.slack.new_response_url()))
    (post,) = bot.slack.wait_for("chat.postMessage")
    assert post.params["channel"] == "C1"
    # and a private quote's id cannot be shared into a public channel
    refused = reply_for(bot, "voice_share", json.dumps({"id": private, "c": "CPRIV"}),
                        channel_id="C1")
    assert "private conversation" in refused["text"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("offset", [10**9, 51, -5, "5", 2.5])
def test_paging_is_bounded(bot: Bot, offset: object) -> None:
    """A forged offset (1e9 once took 100 s and 2 GB) is refused before any search runs."""
    bot.services.imports.import_quotes(
        [(i, NewQuote(team_id="T0001", text=f"Anything goes wrong {i}", speaker_name=f"P{i}"))
         for i in range(3)])
    value = json.dumps({"q": "anything", "o": offset, "c": "C1", "t": None})
    reply = reply_for(bot, "voice_more", value)
    assert "at most the 50" in reply["text"] or "out of date" in reply["text"]
    assert "Anything goes wrong" not in json.dumps(reply)


@pytest.mark.parametrize("value", ["99999999999999999999", "2147483648", "-1", "1e9", "",
                                   '{"id": 99999999999999999999}'])
@pytest.mark.parametrize("action", ["voice_full", "voice_share", "quote_edit", "quote_delete"])
def test_huge_or_odd_ids_get_a_clear_answer(bot: Bot, action: str, value: str) -> None:
    reply = reply_for(bot, action, value)
    assert reply["response_type"] == "ephemeral"
    assert any(w in reply["text"] for w in ("out of date", "gone", "not available"))


def test_show_more_stops_at_fifty(bot: Bot) -> None:
    bot.services.imports.import_quotes(
        [(i, NewQuote(team_id="T0001", text=f"Billing problem number {i} in detail",
                      speaker_name=f"P{i}")) for i in range(80)])
    value = json.dumps({"q": "billing problem", "o": 40})
    hook = bot.slack.new_response_url()
    bot.send(signing.block_actions("voice_more", value, response_url=hook))
    (page,) = bot.responses(hook)
    assert "*41.*" in json.dumps(page) and "voice_more" in json.dumps(page)
    more = next(e for b in page["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == "voice_more")
    bot.send(signing.block_actions("voice_more", more["value"], response_url=hook))
    last = bot.responses(hook, count=2)[1]
    assert "*50.*" in json.dumps(last) and "voice_more" not in json.dumps(last)


# -- the single-workspace guard -----------------------------------------------------------------

def test_enterprise_flag_does_not_get_past_the_single_workspace_guard(bot: Bot) -> None:
    resp, _ = bot.command("billing", team_id="T9999", is_enterprise_install="true",
                          enterprise_id="E1")
    assert resp.status == 401
    ts = bot.slack.add_message("C1", "Another org's words", user="UCUST")
    event = signing.reaction_added("U1", "loudspeaker", "C1", ts)
    body = signing.event_callback(event, team_id="T9999", authorizations=[
        {"enterprise_id": "E1", "team_id": None, "user_id": "UBOT", "is_bot": True,
         "is_enterprise_install": True}], enterprise_id="E1")
    assert bot.send(body).status == 401
    assert bot.slack.calls_to("reactions.get") == [] and quote_count(bot) == 0


# -- markup in what users said ----------------------------------------------------------------

HOSTILE = "Ping <!channel> and <@U2>, then <https://evil.example|click here> & win"


def test_markup_in_a_quote_is_escaped_in_blocks_and_fallback_text(bot: Bot) -> None:
    quote_id = capture(bot, "C1", HOSTILE)
    confirmation = bot.slack.calls_to("chat.postEphemeral")[-1].params
    bot.send(signing.block_actions("voice_share", json.dumps({"id": quote_id}),
                                   response_url=bot.slack.new_response_url()))
    (post,) = bot.slack.wait_for("chat.postMessage")
    _, hook = bot.command("<!here> ping `code` click")
    (reply,) = bot.responses(hook)
    for params in (confirmation, post.params, reply):
        sent = params["text"] + json.dumps(params["blocks"])
        for raw in ("<!channel>", "<@U2>", "<https://evil", "<!here>", "& win"):
            assert raw not in sent, (raw, params["text"])
    assert "&lt;!channel&gt;" in post.params["text"] and "&amp; win" in post.params["text"]
    assert "&lt;!here&gt;" in reply["text"]
    with bot.services.sessions() as s:  # stored verbatim; only the display is escaped
        assert s.scalar(select(Quote.text)) == HOSTILE


def test_a_hostile_source_url_is_not_linked(bot: Bot) -> None:
    bot.services.capture.save(NewQuote(team_id="T0001", text="Exports break on Fridays",
                                      speaker_name="Ana",
                                      source_url="https://x.example/a|<!channel>"))
    _, hook = bot.command("exports break")
    (reply,) = bot.responses(hook)
    assert "<!channel>" not in json.dumps(reply) and "x.example" not in json.dumps(reply)


# -- Slack Connect and conversations that change -------------------------------------------------

@pytest.fixture
def connect(tmp_path):  # type: ignore[no-untyped-def]
    """A bot whose workspace shares CEXT with the partner organisation TPART."""
    with FakeSlack() as slack:
        slack.add_user("U1", "Ana Teammate")
        slack.add_user("UADM", "Ada Admin", is_admin=True)
        slack.add_user("UCUST", "Casey Customer", team_id="TOTHER")
        slack.add_user("UPART", "Pat Partner", team_id="TPART")
        slack.add_channel("C1", "general")
        slack.add_channel("CEXT", "acme-shared", is_ext_shared=True, is_shared=True,
                          shared_team_ids=["T0001", "TPART"])
        with serve_bot(tmp_path, slack) as running:
            yield running


def test_nothing_is_posted_publicly_in_a_channel_shared_with_another_org(connect: Bot) -> None:
    bot = connect
    other = capture(bot, "C1", "Invoices from TOTHER's side never reconcile")
    # Share from /voice results in the shared channel: refused with the reason
    refused = reply_for(bot, "voice_share", json.dumps({"id": other}), channel_id="CEXT")
    assert "shared with another organisation" in refused["text"]
    # @mention there: told privately, nothing posted in the channel
    ts = bot.slack.next_ts()
    bot.event(signing.app_mention("<@UBOT> invoices reconcile", "U1", "CEXT", ts))
    (told,) = bot.slack.wait_for("chat.postEphemeral", count=2)[1:]
    assert told.params["channel"] == "CEXT" and "shared with another organisation" in \
        told.params["text"]
    # /voice still answers, only to the person who asked; another organisation's words
    # (TOTHER's, in a channel shared with TPART) are left out even there
    capture(bot, "C1", "Invoices from our own finance side never reconcile", author="U1")
    _, hook = bot.command("invoices reconcile", channel_id="CEXT")
    (reply,) = bot.responses(hook)
    assert reply["response_type"] == "ephemeral" and "our own finance" in json.dumps(reply)
    assert "TOTHER's side" not in json.dumps(reply)
    assert bot.slack.calls_to("chat.postMessage") == []
    # the digest cannot be pointed there
    _, hook = bot.command("digest here", channel_id="CEXT", user_id="UADM")
    (reply,) = bot.responses(hook)
    assert "shared with another organisation" in reply["text"]
    assert bot.services.workspaces.get("T0001").digest_channel is None


def test_admin_may_let_a_partner_channel_see_its_own_peoples_quotes(connect: Bot) -> None:
    bot = connect
    other = capture(bot, "C1", "Invoices from TOTHER's side never reconcile")
    own = capture(bot, "C1", "Our invoices from Pat's team never reconcile", author="UPART")
    assert stored(bot, own).speaker_team_id == "TPART"
    bot.services.workspaces.update("T0001", connect_share_own=True)
    refused = reply_for(bot, "voice_share", json.dumps({"id": other}), channel_id="CEXT")
    assert "shared with another organisation" in refused["text"]
    bot.send(signing.block_actions("voice_share", json.dumps({"id": own}), channel_id="CEXT",
                                   response_url=bot.slack.new_response_url()))
    (post,) = bot.slack.wait_for("chat.postMessage")
    assert post.params["channel"] == "CEXT" and "Pat's team" in post.params["text"]
    bot.event(signing.app_mention("<@UBOT> invoices reconcile", "U1", "CEXT",
                                  bot.slack.next_ts()))
    posts = bot.slack.wait_for("chat.postMessage", count=2)
    answer = json.dumps(posts[1].params)
    assert "Pat's team" in answer and "TOTHER" not in answer


def test_digest_is_not_posted_into_a_channel_shared_with_another_org(connect: Bot) -> None:
    from bot.slack.app import make_delivery

    bot = connect
    capture(bot, "C1", "Invoices never reconcile")
    bot.services.workspaces.update("T0001", digest_channel="CEXT")  # set before it was shared
    outcome = make_delivery(bot.settings, bot.services).post("T0001")
    assert (outcome.status, outcome.detail) == ("failed", "externally_shared")
    assert bot.slack.calls_to("chat.postMessage") == []
    assert "shared with another organisation" in \
        bot.services.workspaces.update("T0001").digest_problem


def test_a_channel_converted_to_private_takes_its_quotes_private(bot: Bot) -> None:
    quote_id = capture(bot, "CPROD", "Roadmap leak: pricing goes up in March")
    _, hook = bot.command("pricing March", channel_id="C1")
    assert "Roadmap leak" in json.dumps(bot.responses(hook))
    bot.slack.channels["CPROD"]["is_private"] = True
    bot.event({"type": "channel_converted_to_private", "channel": "CPROD",
               "event_ts": bot.slack.next_ts()})
    assert eventually(lambda: stored(bot, quote_id).is_private)
    _, hook = bot.command("pricing March", channel_id="C1")
    assert "Roadmap leak" not in json.dumps(bot.responses(hook))
    _, hook = bot.command("pricing March", channel_id="CPROD")
    assert "Roadmap leak" in json.dumps(bot.responses(hook))


def test_a_missed_conversion_is_caught_at_the_next_capture(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with FakeSlack() as slack:
        slack.add_user("U1", "Ana")
        slack.add_channel("C1", "general")
        slack.add_channel("CPROD", "product")
        with serve_bot(tmp_path, slack) as bot:
            bot.services.capture.save(NewQuote(team_id="T0001", text="Pricing goes up in March",
                                              channel_id="CPROD", message_ts="1.1"))
            slack.channels["CPROD"]["is_private"] = True  # no event reached us
            capture(bot, "CPROD", "Another pricing remark")
            with bot.services.sessions() as s:
                assert set(s.scalars(select(Quote.is_private))) == {True}


def test_a_backtick_in_a_filter_cannot_end_its_code_span(bot: Bot) -> None:
    resp, _ = bot.command("emotion:an`*gry*`<!channel> billing")
    text = resp.json()["text"]
    assert "`emotion:an\u02cb*gry*\u02cb&lt;!channel&gt;` is not an emotion" in text
    assert "<!channel>" not in json.dumps(resp.json())
