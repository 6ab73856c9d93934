"""A small stand-in for Slack, for the benchmarks that serve the real app over HTTP.

* :func:`slash_command`, :func:`event_callback`, :func:`reaction_added` build request
  bodies as Slack sends them; :func:`post` sends one signed with ``slack_sdk.signature``
  (the app verifies it as it verifies Slack).
* :class:`StubSlack` serves the Web API methods a `/voice` or a reaction capture calls
  (``auth.test``, ``users.info``, ``conversations.*``, ``reactions.get``, ``chat.*``,
  ``views.*``; any other method answers ``{"ok": true}``) and ``response_url`` hooks, on
  127.0.0.1, recording every call.

The test suite's fake (tests/fakes/) is stricter: it validates every message, injects faults
and models channels; the benchmarks need none of that and must not import from tests/.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TEAM = "T0001"
Json = dict[str, Any]
Body = tuple[str, str]  # (body, content type)


# ---- requests to the bot ------------------------------------------------------------------
def slash_command(text: str, *, response_url: str, command: str = "/voice",
                  team_id: str = TEAM, user_id: str = "U1", channel_id: str = "C1") -> Body:
    """A slash command invocation, form-encoded as Slack sends it."""
    return urlencode({
        "token": "verification-token", "team_id": team_id, "team_domain": "stub",
        "channel_id": channel_id, "channel_name": "general", "user_id": user_id,
        "user_name": user_id.lower(), "command": command, "text": text, "api_app_id": "A1",
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": f"t{uuid.uuid4().hex[:12]}",  # Slack gives every invocation its own
    }), FORM


def event_callback(event: Json, *, team_id: str = TEAM) -> Body:
    """An Events API ``event_callback`` envelope around ``event``."""
    return json.dumps({
        "token": "verification-token", "team_id": team_id, "api_app_id": "A1",
        "event": event, "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": "UBOT",
                            "is_bot": True, "is_enterprise_install": False}],
    }), JSON


def reaction_added(user: str, reaction: str, channel: str, ts: str,
                   item_user: str | None = None) -> Json:
    event: Json = {"type": "reaction_added", "user": user, "reaction": reaction,
                   "item": {"type": "message", "channel": channel, "ts": ts},
                   "event_ts": f"{time.time():.6f}"}
    return event | ({"item_user": item_user} if item_user else {})


def block_actions(action_id: str, value: str, *, team_id: str = TEAM, user_id: str = "U1",
                  channel_id: str = "C1") -> Body:
    """A button click (``block_actions``) on a message in ``channel_id``."""
    payload = {
        "type": "block_actions", "team": {"id": team_id, "domain": "stub"},
        "user": {"id": user_id, "team_id": team_id}, "api_app_id": "A1",
        "token": "verification-token", "trigger_id": f"t{uuid.uuid4().hex[:12]}",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": channel_id},
        "channel": {"id": channel_id}, "response_url": "",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1",
                     "value": value, "action_ts": f"{time.time():.6f}"}]}
    return urlencode({"payload": json.dumps(payload)}), FORM


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers for ``body`` (``v0=`` HMAC-SHA256 of ``v0:{ts}:{body}``)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


@dataclass
class Response:
    status: int
    text: str
    elapsed: float  # seconds from sending to the whole answer read


def post(url: str, body: str, content_type: str, secret: str, *,
         timeout: float = 10) -> Response:
    """POST ``body`` to the bot, signed with ``secret`` as Slack signs requests."""
    headers = {"Content-Type": content_type, **sign(body, secret)}
    req = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    return Response(status, raw.decode("utf-8", "replace"), time.perf_counter() - began)


# ---- the Web API the bot calls ------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    method: str  # a Web API method, or "response_url"
    params: Json  # a response_url call carries its own URL as params["_url"]


class StubSlack:
    """Slack's Web API and response_url hooks on 127.0.0.1, for one team."""

    def __init__(self, team_id: str = TEAM) -> None:
        self.team_id = team_id
        self.users: dict[str, Json] = {}
        self.messages: dict[tuple[str, str], Json] = {}
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self._last_ts = 0
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.stub = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="stub-slack", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def root(self) -> str:
        assert self._server is not None, "use StubSlack as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """What Settings.slack_api_url takes."""
        return f"{self.root}/api/"

    def new_response_url(self) -> str:
        return f"{self.root}/response/{uuid.uuid4().hex}"

    def next_ts(self) -> str:
        with self._cond:
            self._last_ts = max(int(time.time() * 1_000_000), self._last_ts + 100)
            micros = self._last_ts
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def add_user(self, user_id: str, real_name: str) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": self.team_id, "name": real_name.lower(),
            "real_name": real_name, "deleted": False, "is_bot": False,
            "profile": {"real_name": real_name, "display_name": "", "team": self.team_id}}

    def add_channel(self, channel_id: str, name: str | None = None) -> None:
        """Every conversation is a public, internal channel here (conversations.info)."""

    def add_message(self, channel: str, text: str, user: str = "U1") -> str:
        """Store a message (what reactions.get and conversations.history return); its ts."""
        ts = self.next_ts()
        self.messages[(channel, ts)] = {"type": "message", "text": text, "user": user,
                                        "ts": ts, "team": self.team_id}
        return ts

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        with self._cond:
            self.calls.clear()

    def wait_for_hook(self, url: str, timeout: float = 30.0) -> Call:
        """Block until the bot has posted to response_url ``url``."""
        def posted() -> Call | None:
            return next((c for c in self.calls
                         if c.method == "response_url" and c.params["_url"] == url), None)

        with self._cond:
            if not self._cond.wait_for(lambda: posted() is not None, timeout):
                raise TimeoutError(f"nothing posted to {url} within {timeout} s")
            return posted()  # type: ignore[return-value]

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def answer(self, method: str, p: Json) -> Json:
        channel = p.get("channel", "")
        if method == "auth.test":
            return {"ok": True, "url": "https://stub.slack.com/", "team": "Stub",
                    "user": "voicebot", "team_id": self.team_id, "user_id": "UBOT",
                    "bot_id": "BBOT", "is_enterprise_install": False}
        if method == "users.info":
            user = self.users.get(p.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False,
                                                            "error": "user_not_found"}
        if method == "conversations.info":
            return {"ok": True, "channel": {
                "id": channel, "name": channel.lower(), "is_channel": True, "is_im": False,
                "is_mpim": False, "is_private": False, "is_shared": False,
                "is_ext_shared": False, "is_member": True, "context_team_id": self.team_id}}
        if method in ("conversations.history", "conversations.replies"):
            ts = p.get("latest") or p.get("ts") or ""
            msg = self.messages.get((channel, ts))
            return {"ok": True, "messages": [msg] if msg else [], "has_more": False}
        if method == "reactions.get":
            msg = self.messages.get((channel, p.get("timestamp", "")))
            if msg is None:
                return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "type": "message", "channel": channel,
                    "message": msg | {"permalink": self._permalink(channel, msg["ts"])}}
        if method == "chat.getPermalink":
            return {"ok": True, "channel": channel,
                    "permalink": self._permalink(channel, p.get("message_ts", ""))}
        if method in ("chat.postMessage", "chat.update"):
            return {"ok": True, "channel": channel, "ts": p.get("ts") or self.next_ts()}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method.startswith("views."):
            return {"ok": True, "view": {"id": "V1", **(p.get("view") or {})}}
        return {"ok": True}

    @staticmethod
    def _permalink(channel: str, ts: str) -> str:
        return f"https://stub.slack.test/archives/{channel}/p{ts.replace('.', '')}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive, as Slack's servers do
    # TCP_NODELAY, as Slack's servers answer: the headers and the body are two writes,
    # and without it Nagle holds the body until the client's delayed ACK (~40 ms),
    # stalling every Web API call and response_url post the bot makes
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:
        stub: StubSlack = self.server.stub  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if self.headers.get("Content-Type", "").startswith(JSON):
            params: Json = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw, keep_blank_values=True))
            for key in ("blocks", "view", "attachments"):
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
        if path.startswith("/response/"):
            stub._record(Call("response_url", {**params, "_url": stub.root + path}))
            return self._send({"ok": True})
        if not path.startswith("/api/"):
            self.send_error(404)
            return
        method = path.removeprefix("/api/")
        stub._record(Call(method, params))
        self._send(stub.answer(method, params))

    do_GET = do_POST

    def _send(self, body: Json) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
