"""Tests of the fake Slack Web API, driven by the real slack_sdk clients."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack

TOKEN = "xoxb-test-token"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.base_url, timeout=5)


def test_auth_test_and_recording(fake: FakeSlack, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["ok"] and resp["team_id"] == "T0001" and resp["user_id"] == "UBOT"
    assert resp["bot_id"] == "BBOT" and resp["is_enterprise_install"] is False
    assert "reactions:read" in resp.headers["x-oauth-scopes"]
    (call,) = fake.calls_to("auth.test")
    assert call.token == TOKEN and call.headers["Authorization"] == f"Bearer {TOKEN}"


def test_invalid_and_missing_token(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(token="xoxb-wrong", base_url=fake.base_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=fake.base_url).auth_test()
    assert err.value.response["error"] == "not_authed"
    assert [c.token for c in fake.calls] == ["xoxb-wrong", None]


def test_reactions_get_returns_thread_reply_itself(fake: FakeSlack, client: WebClient) -> None:
    parent = fake.add_message("C1", "Which widget?", user="U1")
    reply = fake.add_message("C1", "The blue one, always", user="U2", thread_ts=parent)
    assert float(reply) > float(parent)
    fake.add_reaction("C1", reply, "speech_balloon", "U3")
    resp = client.reactions_get(channel="C1", timestamp=reply, full=True)
    msg = resp["message"]
    assert resp["type"] == "message" and resp["channel"] == "C1"
    assert (msg["text"], msg["user"], msg["ts"], msg["thread_ts"]) == (
        "The blue one, always",
        "U2",
        reply,
        parent,
    )
    assert msg["reactions"] == [{"name": "speech_balloon", "users": ["U3"], "count": 1}]
    assert fake.calls_to("reactions.get")[0].params == {
        "channel": "C1",
        "timestamp": reply,
        "full": "1",
    }
    link = client.chat_getPermalink(channel="C1", message_ts=reply)["permalink"]
    assert link.endswith(f"/archives/C1/p{reply.replace('.', '')}?thread_ts={parent}&cid=C1")


def test_read_errors(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C9", "secret-plans", is_member=False)
    fake.add_channel("G9", "private", is_private=True, is_member=False)
    for channel, error in [
        ("C9", "not_in_channel"),
        ("G9", "channel_not_found"),
        ("C1", "message_not_found"),
    ]:
        with pytest.raises(SlackApiError) as err:
            client.reactions_get(channel=channel, timestamp="1700000000.000100")
        assert err.value.response["error"] == error
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U404")
    assert err.value.response["error"] == "user_not_found"
    fake.add_user("U2", "Ada Lovelace", email="ada@example.com", is_stranger=True)
    user = client.users_info(user="U2")["user"]
    assert user["profile"]["real_name"] == "Ada Lovelace" and user["is_stranger"] is True
    assert client.conversations_join(channel="C9")["channel"]["is_member"] is True
    assert client.conversations_info(channel="C9")["channel"]["name"] == "secret-plans"


def test_fail_injection_consumed_in_order(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("auth.test", "account_inactive")
    with pytest.raises(SlackApiError) as err:
        client.auth_test()
    assert err.value.response["error"] == "account_inactive"
    assert client.auth_test()["ok"]
    fake.server_error("auth.test", status=503)
    with pytest.raises(SlackApiError) as err:
        client.auth_test()
    assert err.value.response.status_code == 503


def test_rate_limit_retried_by_sdk_handler(fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", retry_after=0)
    bare = WebClient(token=TOKEN, base_url=fake.base_url)
    with pytest.raises(SlackApiError) as err:
        bare.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "0"
    fake.rate_limit("chat.postMessage", retry_after=0)
    client = WebClient(
        token=TOKEN,
        base_url=fake.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert len(fake.calls_to("chat.postMessage")) == 3


def test_blocks_recorded_parsed_and_message_stored(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*quote*"}}]
    resp = client.chat_postMessage(channel="C1", text="quote", blocks=blocks)
    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == blocks
    stored = fake.messages[("C1", resp["ts"])]
    assert stored["bot_id"] == "BBOT" and stored["blocks"] == blocks
    # form-encoded bodies carry blocks/view as JSON strings: they are decoded too
    client.api_call(
        "chat.postEphemeral",
        params={"channel": "C1", "user": "U1", "text": "x", "blocks": json.dumps(blocks)},
    )
    assert fake.calls_to("chat.postEphemeral")[0].params["blocks"] == blocks
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="too many", blocks=blocks * 51)
    assert err.value.response["error"] == "invalid_blocks"
    client.chat_update(channel="C1", ts=resp["ts"], text="edited")
    assert fake.messages[("C1", resp["ts"])]["text"] == "edited"


def test_views(fake: FakeSlack, client: WebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "save",
        "title": {"type": "plain_text", "text": "Save"},
        "blocks": [],
    }
    opened = client.views_open(trigger_id="t1", view=view)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "save"
    updated = client.views_update(view_id=opened["id"], view={**view, "callback_id": "x"})
    assert updated["view"]["id"] == opened["id"]
    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]
    assert fake.home_views["U1"]["id"] == home["id"]
    with pytest.raises(SlackApiError) as err:
        client.views_open(
            trigger_id="t1", view={**view, "title": {"type": "plain_text", "text": "x" * 25}}
        )
    assert err.value.response["error"] == "invalid_arguments"


def test_response_url_recording(fake: FakeSlack) -> None:
    url = fake.new_response_url(channel="C1")
    resp = WebhookClient(url).send(text="Here are the voices", response_type="in_channel")
    assert resp.status_code == 200 and json.loads(resp.body) == {"ok": True}
    (call,) = fake.wait_for("response_url")
    assert call.params == {
        "text": "Here are the voices",
        "response_type": "in_channel",
        "_url": url,
    }
    assert any(m["text"] == "Here are the voices" for m in fake.messages.values())
    fake.fail("response_url", "expired_url")
    assert json.loads(WebhookClient(url).send(text="late").body)["error"] == "expired_url"


def test_wait_for_timeout_lists_methods_seen(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    start = time.monotonic()
    with pytest.raises(AssertionError, match=r"'views\.open'.*auth\.test"):
        fake.wait_for("views.open", timeout=0.2)
    assert time.monotonic() - start < 2
    fake.reset_calls()
    assert fake.calls == []


def test_delay(fake: FakeSlack, client: WebClient) -> None:
    fake.delay("auth.test", 0.3, times=1)
    start = time.monotonic()
    client.auth_test()
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    client.auth_test()
    assert time.monotonic() - start < 0.3


def test_signature_round_trip_and_payloads() -> None:
    body, ctype = signing.slash_command("pricing", response_url="http://x/response/1")
    assert ctype == "application/x-www-form-urlencoded"
    assert parse_qs(body)["command"] == ["/voice"]
    headers = signing.sign(body, "s3cret")
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = signing.sign(body, "s3cret", timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)
    event = signing.reaction_added("U1", "speech_balloon", "C1", "1700000000.000100")
    envelope = json.loads(signing.event_callback(event, event_id="Ev1")[0])
    assert envelope["event"]["item"]["ts"] == "1700000000.000100"
    assert "item_user" not in envelope["event"] and envelope["event_id"] == "Ev1"
    payload = json.loads(
        parse_qs(signing.message_action("capture", {"text": "hi", "user": "U2", "ts": "1.2"})[0])[
            "payload"
        ][0]
    )
    assert payload["type"] == "message_action" and payload["message_ts"] == "1.2"


def test_post_sends_signed_request(fake: FakeSlack) -> None:
    url = fake.new_response_url()
    resp = signing.post(url, '{"text": "hi"}', "application/json", "s3cret")
    assert resp.status == 200 and resp.json() == {"ok": True} and resp.elapsed >= 0
    headers = fake.calls_to("response_url")[0].headers
    assert SignatureVerifier("s3cret").is_valid_request('{"text": "hi"}', headers)
