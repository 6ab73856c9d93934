"""Build Slack request payloads and send them to the bot signed exactly as Slack signs them."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
Body = tuple[str, str]  # (body, content_type)


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers for ``body`` (``v0=`` HMAC-SHA256 of ``v0:{ts}:{body}``)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def _team(team_id: str) -> dict[str, str]:
    return {"id": team_id, "domain": "fake"}


def _user(user_id: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def _action_ts() -> str:
    return f"{time.time():.6f}"


def new_trigger_id() -> str:
    """A fresh trigger id, as Slack gives every command, click and submission its own."""
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


# ---- slash commands and events ----------------------------------------------------------
def slash_command(
    text: str,
    *,
    command: str = "/voice",
    team_id: str = "T0001",
    user_id: str = "U1",
    channel_id: str = "C1",
    channel_name: str = "general",
    response_url: str,
    trigger_id: str | None = None,
    api_app_id: str = "A1",
    **extra: str,
) -> Body:
    """A slash command invocation, form-urlencoded as Slack sends it."""
    fields = {
        "token": "verification-token",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
        **extra,
    }
    return urlencode(fields), FORM


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = "T0001",
    event_id: str | None = None,
    api_app_id: str = "A1",
    bot_user_id: str = "UBOT",
    **extra: Any,
) -> Body:
    """An Events API ``event_callback`` envelope around ``event``."""
    envelope = {
        "token": "verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        **extra,
    }
    return json.dumps(envelope), JSON


def reaction_added(
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str | None = None,
    *,
    event_ts: str | None = None,
) -> dict[str, Any]:
    """A ``reaction_added`` event; ``item_user`` is omitted when None (bot/webhook messages)."""
    event: dict[str, Any] = {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": event_ts or _action_ts(),
    }
    if item_user is not None:
        event["item_user"] = item_user
    return event


def app_mention(
    text: str,
    user: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    *,
    team_id: str = "T0001",
) -> dict[str, Any]:
    """An ``app_mention`` event (``text`` should contain ``<@UBOT>``)."""
    event = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "team": team_id,
        "event_ts": ts,
    }
    return {**event, "thread_ts": thread_ts} if thread_ts else event


def app_home_opened(user: str, *, channel: str = "D1", tab: str = "home") -> dict[str, Any]:
    """An ``app_home_opened`` event."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": _action_ts(),
    }


def url_verification(challenge: str) -> Body:
    """The Events API URL handshake."""
    return json.dumps(
        {"token": "verification-token", "challenge": challenge, "type": "url_verification"}
    ), JSON


# ---- interactivity -----------------------------------------------------------------------
def interactive(payload: dict[str, Any]) -> Body:
    """An interactivity request: form body ``payload=<json>``."""
    return urlencode({"payload": json.dumps(payload)}), FORM


def block_actions(
    action_id: str,
    value: str | None = None,
    *,
    block_id: str = "b1",
    action_type: str = "button",
    user_id: str = "U1",
    team_id: str = "T0001",
    channel_id: str | None = "C1",
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    response_url: str | None = None,
    trigger_id: str | None = None,
    api_app_id: str = "A1",
    **extra: Any,
) -> Body:
    """A ``block_actions`` payload (from a message, or from ``view`` when given)."""
    action: dict[str, Any] = {
        "type": action_type,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": _action_ts(),
    }
    if value is not None:
        action["value"] = value
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": "verification-token",
        "trigger_id": trigger_id or new_trigger_id(),
        "is_enterprise_install": False,
        "enterprise": None,
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
        payload["view"] = view
    else:
        msg = message or {"type": "message", "ts": "1700000000.000100", "text": ""}
        payload["container"] = {
            "type": "message",
            "message_ts": msg.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["message"] = msg
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["response_url"] = response_url or ""
    payload.update(extra)
    return interactive(payload)


def message_action(
    callback_id: str,
    message: dict[str, Any],
    *,
    channel_id: str = "C1",
    channel_name: str = "general",
    user_id: str = "U1",
    team_id: str = "T0001",
    trigger_id: str | None = None,
    response_url: str = "",
    **extra: Any,
) -> Body:
    """A message shortcut (``message_action``) on ``message`` (``text``/``user``/``ts``...)."""
    message = {"type": "message", **message}
    payload = {
        "type": "message_action",
        "token": "verification-token",
        "action_ts": _action_ts(),
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "channel": {"id": channel_id, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url,
        "message_ts": message.get("ts"),
        "message": message,
        **extra,
    }
    return interactive(payload)


def view_submission(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    private_metadata: str = "",
    user_id: str = "U1",
    team_id: str = "T0001",
    view_id: str = "V1",
    api_app_id: str = "A1",
    trigger_id: str | None = None,
    **extra: Any,
) -> Body:
    """A modal ``view_submission``; ``values`` is ``{block_id: {action_id: {type, value...}}}``."""
    view: dict[str, Any] = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "state": {"values": values},
        "hash": f"{int(time.time())}.abc",
        "title": {"type": "plain_text", "text": "Modal"},
        "blocks": [],
        "root_view_id": view_id,
        "previous_view_id": None,
        "app_id": api_app_id,
        "bot_id": "BBOT",
        "external_id": "",
    }
    payload = {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": "verification-token",
        "trigger_id": trigger_id or new_trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
        **extra,
    }
    return interactive(payload)


# ---- sending -----------------------------------------------------------------------------
@dataclass
class Response:
    """An HTTP response from the bot."""

    status: int
    headers: dict[str, str] = field(repr=False)
    text: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.text)


def post(
    url: str,
    body: str,
    content_type: str,
    secret: str | None,
    *,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Response:
    """POST ``body`` to ``url`` signed with ``secret`` (unsigned if None), via urllib."""
    all_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+fake)"}
    if secret is not None:
        all_headers.update(sign(body, secret, timestamp))
    all_headers.update(headers or {})
    req = urllib.request.Request(url, data=body.encode("utf-8"), headers=all_headers, method="POST")
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, resp_headers, raw = resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as e:
        status, resp_headers, raw = e.code, dict(e.headers.items()), e.read()
    return Response(status, resp_headers, raw.decode("utf-8", "replace"), time.monotonic() - start)
