"""A fake Slack Web API (plus response_url endpoints) served over real HTTP for end-to-end tests.

Point ``slack_sdk.WebClient(base_url=fake.base_url)`` (or a Bolt ``App(client=...)``) at it.
Every request is recorded in ``fake.calls``; tests fill ``messages``/``users``/``channels``.
"""

from __future__ import annotations

import collections
import copy
import email.parser
import email.policy
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.socket_mode import FakeSocketMode

JSON_FIELDS = {"blocks", "attachments", "view", "metadata", "unfurls", "user_auth_blocks"}
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "reactions:read",
    "team:read",
    "channels:history",
    "groups:history",
    "users:read",
)
Json = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One request received by the fake."""

    method: str
    params: dict[str, Any]
    token: str | None
    headers: dict[str, str] = field(repr=False)


@dataclass
class _Fault:
    kind: str  # "fail" | "rate_limit" | "server_error"
    value: Any


class FakeSlack:
    """Threaded HTTP server imitating ``https://slack.com/api/`` and ``response_url`` hooks."""

    def __init__(
        self,
        tokens: set[str] | None = None,
        *,
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
    ) -> None:
        self.tokens: set[str] = set(tokens) if tokens is not None else {"xoxb-test-token"}
        self.scopes: list[str] = list(DEFAULT_SCOPES)
        self.team: Json = {"id": team_id, "name": "Fake Team", "domain": "fake"}
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, "A1"
        self.messages: dict[tuple[str, str], Json] = {}
        self.users: dict[str, Json] = {}
        self.other_teams: dict[str, Json] = {}  # organisations sharing a channel (team.info)
        self.channels: dict[str, Json] = {}
        self.views: dict[str, Json] = {}
        self.home_views: dict[str, Json] = {}
        self.expired_triggers: set[str] = set()
        self.calls: list[Call] = []
        self.lock = threading.RLock()  # guards the state dicts while a request is handled
        self._cond = threading.Condition()
        self._faults: dict[str, collections.deque[_Fault]] = collections.defaultdict(
            collections.deque
        )
        self._delays: dict[str, tuple[float, int | None]] = {}
        self._hooks: dict[str, Json] = {}
        self._last_ts = 0
        self.current_token: str | None = None
        self.token_teams: dict[str, str] = {}
        self.client_id, self.client_secret = "1111.2222", "fake-client-secret"
        self.refresh_tokens: dict[str, str] = {}
        self.token_lifetime: int | None = None
        self.issued = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.socket_mode: FakeSocketMode | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        """Bind 127.0.0.1 on a random port and serve from a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            name="fake-slack",
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()
        return self

    def enable_socket_mode(self, app_token: str = "xapp-1-A1-test") -> FakeSocketMode:
        """Start a fake Socket Mode WebSocket server; ``apps.connections.open`` with
        ``app_token`` then returns a ``ws://127.0.0.1`` URL on it."""
        if self.socket_mode is None:
            self.socket_mode = FakeSocketMode().start()
        self.tokens.add(app_token)
        return self.socket_mode

    def stop(self) -> None:
        """Shut the server down and release the port."""
        if self.socket_mode is not None:
            self.socket_mode.stop()
            self.socket_mode = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def new_response_url(self, channel: str | None = None) -> str:
        """A unique response_url; ``in_channel`` posts to it are stored in ``channel``."""
        key = uuid.uuid4().hex
        self._hooks[key] = {"channel": channel, "uses": 0}
        return f"http://127.0.0.1:{self.port}/response/{key}"

    # ---- state helpers ---------------------------------------------------------------------
    def next_ts(self) -> str:
        """A fresh, strictly increasing Slack ts from the clock ("1764130000.000100" style)."""
        with self.lock:
            micros = max(int(time.time() * 1_000_000), self._last_ts + 100)
            self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        is_private: bool = False,
        is_im: bool = False,
        is_member: bool = True,
        **extra: Any,
    ) -> Json:
        """Register a conversation for conversations.info / membership checks."""
        ch = {
            "id": channel_id,
            "name": name or channel_id.lower(),
            "is_channel": not is_im,
            "is_group": False,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": False,
            "is_ext_shared": False,
            "is_shared": False,
            "is_member": is_member,
            "context_team_id": self.team["id"],
            **extra,
        }
        with self.lock:
            self.channels[channel_id] = ch
        return ch

    def add_user(self, user_id: str, real_name: str, **extra: Any) -> Json:
        """Register a user; ``email``/``display_name``/``profile`` go into ``profile``."""
        profile = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": extra.pop("display_name", ""),
            "team": self.team["id"],
        }
        profile["display_name_normalized"] = profile["display_name"]
        if "email" in extra:
            profile["email"] = extra.pop("email")
        profile.update(extra.pop("profile", {}))
        user = {
            "id": user_id,
            "team_id": self.team["id"],
            "deleted": False,
            "name": real_name.lower().replace(" ", "."),
            "real_name": real_name,
            "is_bot": False,
            "is_app_user": False,
            "profile": profile,
            **extra,
        }
        with self.lock:
            self.users[user_id] = user
        return user

    def add_team(self, team_id: str, name: str) -> Json:
        """Another organisation sharing a channel with us, as ``team.info`` describes it."""
        team = {"id": team_id, "name": name, "domain": name.lower().replace(" ", "-")}
        with self.lock:
            self.other_teams[team_id] = team
        return team

    def add_message(
        self,
        channel: str,
        text: str,
        user: str | None = "U1",
        ts: str | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> str:
        """Store a message (a reply if ``thread_ts``) and return its ts."""
        ts = ts or self.next_ts()
        msg: Json = {"type": "message", "text": text, "ts": ts, "team": self.team["id"]}
        if user is not None:
            msg["user"] = user
        if thread_ts:
            msg["thread_ts"] = thread_ts
        msg.update(extra)
        with self.lock:
            if channel not in self.channels:
                self.add_channel(channel, is_im=channel.startswith("D"))
            self.messages[(channel, ts)] = msg
            parent = self.messages.get((channel, thread_ts)) if thread_ts else None
            if parent is not None and parent is not msg:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                if user and user not in parent.setdefault("reply_users", []):
                    parent["reply_users"].append(user)
        return ts

    def add_reaction(self, channel: str, ts: str, name: str, user: str) -> None:
        """Add a reaction to a stored message (as reactions.get reports it)."""
        with self.lock:
            reactions = self.messages[(channel, ts)].setdefault("reactions", [])
            for r in reactions:
                if r["name"] == name:
                    if user not in r["users"]:
                        r["users"].append(user)
                        r["count"] += 1
                    return
            reactions.append({"name": name, "users": [user], "count": 1})

    def permalink(self, channel: str, ts: str) -> str:
        """The permalink chat.getPermalink returns (thread replies carry thread_ts and cid)."""
        url = f"https://{self.team['domain']}.slack.test/archives/{channel}/p{ts.replace('.', '')}"
        msg = self.messages.get((channel, ts))
        if msg and msg.get("thread_ts") and msg["thread_ts"] != ts:
            url += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return url

    # ---- recorded calls --------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` arrived; AssertionError if not."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.calls_to(method)) >= count, timeout)
            if not ok:
                seen = collections.Counter(c.method for c in self.calls)
                raise AssertionError(
                    f"expected {count} call(s) to {method!r} within {timeout}s, got "
                    f"{seen.get(method, 0)}; methods seen: {dict(seen) or 'none'}"
                )
            return self.calls_to(method)

    def reset_calls(self) -> None:
        with self._cond:
            self.calls.clear()

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    # ---- fault injection (each consumed in order, per method) ------------------------------
    def fail(self, method: str, error: str = "not_in_channel", times: int = 1) -> None:
        """Next ``times`` calls answer ``{"ok": false, "error": error}`` (HTTP 200)."""
        self._faults[method].extend(_Fault("fail", error) for _ in range(times))

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Next ``times`` calls answer HTTP 429 with ``Retry-After``."""
        self._faults[method].extend(_Fault("rate_limit", retry_after) for _ in range(times))

    def server_error(self, method: str, status: int = 500, times: int = 1) -> None:
        """Next ``times`` calls answer HTTP ``status``."""
        self._faults[method].extend(_Fault("server_error", status) for _ in range(times))

    def delay(self, method: str, seconds: float, times: int | None = None) -> None:
        """Sleep before answering ``method`` (``times`` calls, or always if None; 0 clears)."""
        self._delays[method] = (seconds, times)

    def _take_fault(self, method: str) -> _Fault | None:
        with self.lock:
            seconds, times = self._delays.get(method, (0.0, None))
            if seconds and times is not None:
                self._delays[method] = (seconds, times - 1) if times > 1 else (0.0, None)
            queue = self._faults.get(method)
            fault = queue.popleft() if queue else None
        if seconds:
            time.sleep(seconds)
        return fault

    # ---- dispatch --------------------------------------------------------------------------
    def handle_api(self, method: str, params: Json, token: str | None) -> Json:
        """Answer one Web API call (after faults); runs under ``self.lock``."""
        if method != "oauth.v2.access" and token not in self.tokens:
            return {"ok": False, "error": "not_authed" if token is None else "invalid_auth"}
        handler = METHODS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self.lock:
            self.current_token = token
            return handler(self, params)

    def handle_hook(self, key: str, body: Json) -> tuple[int, Json | str]:
        """Answer a POST to a response_url."""
        with self.lock:
            hook = self._hooks.get(key)
            if hook is None:
                return 404, "invalid_url"
            hook["uses"] += 1
            if hook["uses"] > 5:
                return 404, "used_url"
            if hook["channel"] and body.get("response_type") == "in_channel":
                self.add_message(
                    hook["channel"],
                    body.get("text", ""),
                    user=self.bot_user_id,
                    bot_id=self.bot_id,
                    blocks=body.get("blocks", []),
                )
        return 200, {"ok": True}


# ---- Web API methods (run under FakeSlack.lock) --------------------------------------------
def _err(error: str, *messages: str) -> Json:
    out: Json = {"ok": False, "error": error}
    if messages:
        out["response_metadata"] = {"messages": list(messages)}
    return out


def _read_error(fake: FakeSlack, channel: str) -> str | None:
    """Error for reading ``channel``: its ``error`` key, or not_in_channel / channel_not_found
    (private) when ``is_member`` is False. Unregistered channels are readable."""
    ch = fake.channels.get(channel)
    if not channel:
        return "channel_not_found"
    if ch is None:
        return None
    if ch.get("error"):
        return str(ch["error"])
    if ch.get("is_member") is False:
        return "channel_not_found" if ch.get("is_private") or ch.get("is_im") else "not_in_channel"
    return None


def _post_error(fake: FakeSlack, p: Json) -> Json | None:
    channel = p.get("channel", "")
    ch = fake.channels.get(channel)
    if not channel:
        return _err("channel_not_found")
    if ch is not None and (ch.get("error") or ch.get("is_member") is False):
        if ch.get("error"):
            return _err(str(ch["error"]))
        if ch.get("is_private") or ch.get("is_im"):
            return _err("channel_not_found")
        if "chat:write.public" not in fake.scopes:
            return _err("not_in_channel")
    if not (p.get("text") or p.get("blocks") or p.get("attachments")):
        return _err("no_text")
    blocks = p.get("blocks") or []
    problems = (
        _block_problems(blocks, 50, "/blocks")
        if isinstance(blocks, list)
        else ["[ERROR] must be an array [json-pointer:/blocks]"]
    )
    return _err("invalid_blocks", *problems) if problems else None


def _block_problems(blocks: list[Json], limit: int, pointer: str) -> list[str]:
    """Limits Slack enforces (count, section text) as its ``response_metadata`` messages."""
    out = []
    if len(blocks) > limit:
        out.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") != "section":
            continue
        if len((block.get("text") or {}).get("text", "")) > 3000:
            out.append(
                f"[ERROR] must be less than 3001 characters [json-pointer:{pointer}/{i}/text/text]"
            )
    return out


def _view_error(view: Any) -> Json | None:
    if not isinstance(view, dict):
        return _err("invalid_arguments", "[ERROR] missing required field: view")
    problems = _block_problems(view.get("blocks") or [], 100, "/view/blocks")
    if len((view.get("title") or {}).get("text", "")) > 24:
        problems.append("[ERROR] must be less than 25 characters [json-pointer:/view/title/text]")
    return _err("invalid_arguments", *problems) if problems else None


def _store_view(
    fake: FakeSlack, view: Json, view_id: str | None = None, root: str | None = None
) -> Json:
    vid = view_id or f"V{uuid.uuid4().hex[:10].upper()}"
    stored = {
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "external_id": "",
        "clear_on_close": False,
        "notify_on_close": False,
        "state": {"values": {}},
        **view,
        "id": vid,
        "team_id": fake.team["id"],
        "app_id": fake.app_id,
        "bot_id": fake.bot_id,
        "root_view_id": root or vid,
        "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
    }
    fake.views[vid] = stored
    return {"ok": True, "view": copy.deepcopy(stored)}


def _auth_test(fake: FakeSlack, p: Json) -> Json:
    t = fake.team
    team_id = fake.token_teams.get(fake.current_token or "", t["id"])
    return {
        "ok": True,
        "url": f"https://{t['domain']}.slack.com/",
        "team": t["name"] if team_id == t["id"] else f"Workspace {team_id}",
        "user": "voicebot",
        "team_id": team_id,
        "user_id": fake.bot_user_id,
        "bot_id": fake.bot_id,
        "is_enterprise_install": False,
    }


def _apps_connections_open(fake: FakeSlack, p: Json) -> Json:
    token = fake.current_token or ""
    if not token.startswith("xapp-"):  # Slack wants the app-level token here
        return {"ok": False, "error": "not_allowed_token_type"}
    if fake.socket_mode is None:
        return {"ok": False, "error": "socket_mode_not_enabled"}
    return {"ok": True, "url": fake.socket_mode.new_url()}


def _oauth_v2_access(fake: FakeSlack, p: Json) -> Json:
    """Exchange ``code-<TEAM>`` (or a refresh token) for a bot token of that team.

    Tokens expire after ``fake.token_lifetime`` seconds when it is set (token rotation)."""
    if p.get("client_id") != fake.client_id or p.get("client_secret") != fake.client_secret:
        return _err("invalid_client_id")
    if p.get("grant_type") == "refresh_token":
        team_id = fake.refresh_tokens.pop(p.get("refresh_token", ""), None)
        if team_id is None:
            return _err("invalid_refresh_token")
    else:
        code = p.get("code", "")
        if not code.startswith("code-"):
            return _err("invalid_code")
        team_id = code[len("code-"):]
    fake.issued += 1
    token = f"xoxb-{team_id}-{fake.issued}"
    fake.tokens.add(token)
    fake.token_teams[token] = team_id
    out: Json = {"ok": True, "access_token": token, "token_type": "bot",
                 "scope": ",".join(fake.scopes), "bot_user_id": fake.bot_user_id,
                 "app_id": fake.app_id, "team": {"id": team_id, "name": f"Workspace {team_id}"},
                 "enterprise": None, "is_enterprise_install": False,
                 "authed_user": {"id": "U1"}}
    if fake.token_lifetime:
        refresh = f"xoxe-1-{team_id}-{fake.issued}"
        fake.refresh_tokens[refresh] = team_id
        out.update(refresh_token=refresh, expires_in=fake.token_lifetime)
    return out


def _reactions_get(fake: FakeSlack, p: Json) -> Json:
    channel, ts = p.get("channel", ""), p.get("timestamp", "")
    if not ts:
        return _err("no_item_specified")
    if error := _read_error(fake, channel):
        return _err(error)
    msg = fake.messages.get((channel, ts))
    if msg is None:
        return _err("message_not_found")
    out = copy.deepcopy(msg)
    out.setdefault("reactions", [])
    out["permalink"] = fake.permalink(channel, ts)
    return {"ok": True, "type": "message", "channel": channel, "message": out}


def _users_info(fake: FakeSlack, p: Json) -> Json:
    user = fake.users.get(p.get("user", ""))
    return {"ok": True, "user": copy.deepcopy(user)} if user else _err("user_not_found")


def _team_info(fake: FakeSlack, p: Json) -> Json:
    """The workspace itself, or an organisation it shares a channel with."""
    team_id = p.get("team") or fake.team["id"]
    if team_id == fake.team["id"]:
        return {"ok": True, "team": copy.deepcopy(fake.team)}
    team = fake.other_teams.get(team_id)
    return {"ok": True, "team": copy.deepcopy(team)} if team else _err("team_not_found")


def _get_permalink(fake: FakeSlack, p: Json) -> Json:
    channel, ts = p.get("channel", ""), p.get("message_ts", "")
    if not channel or not ts:
        return _err("channel_not_found" if not channel else "message_not_found")
    return {"ok": True, "channel": channel, "permalink": fake.permalink(channel, ts)}


def _conversations_info(fake: FakeSlack, p: Json) -> Json:
    channel = p.get("channel", "")
    ch = fake.channels.get(channel)
    if ch is None or _read_error(fake, channel) == "channel_not_found":
        return _err("channel_not_found")
    return {"ok": True, "channel": copy.deepcopy(ch)}


def _conversations_history(fake: FakeSlack, p: Json) -> Json:
    """Top-level messages of a channel, newest first; metadata only when asked for."""
    channel = p.get("channel", "")
    if error := _read_error(fake, channel):
        return _err(error)
    oldest = float(p.get("oldest") or 0)
    with_meta = str(p.get("include_all_metadata", "")).lower() in {"1", "true"}
    found = []
    for (ch, ts), msg in fake.messages.items():
        if ch != channel or float(ts) < oldest:
            continue
        if msg.get("thread_ts") and msg.get("thread_ts") != ts:
            continue
        out = copy.deepcopy(msg)
        if not with_meta:
            out.pop("metadata", None)
        found.append(out)
    found.sort(key=lambda m: float(m["ts"]), reverse=True)
    limit = int(p.get("limit") or 100)
    return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit}


def _conversations_join(fake: FakeSlack, p: Json) -> Json:
    ch = fake.channels.get(p.get("channel", ""))
    if ch is None:
        return _err("channel_not_found")
    if ch.get("is_private") or ch.get("is_im"):
        return _err("method_not_supported_for_channel_type")
    out: Json = {"ok": True}
    if ch.get("is_member"):
        out.update(
            warning="already_in_channel", response_metadata={"warnings": ["already_in_channel"]}
        )
    ch["is_member"] = True
    return {**out, "channel": copy.deepcopy(ch)}


def _views_open(fake: FakeSlack, p: Json) -> Json:
    if not p.get("trigger_id"):
        return _err("invalid_arguments", "[ERROR] missing required field: trigger_id")
    if p["trigger_id"] in fake.expired_triggers:
        return _err("expired_trigger_id")
    return _view_error(p.get("view")) or _store_view(fake, p["view"])


def _views_push(fake: FakeSlack, p: Json) -> Json:
    return _views_open(fake, p)


def _views_update(fake: FakeSlack, p: Json) -> Json:
    vid = p.get("view_id") or next(
        (
            k
            for k, v in fake.views.items()
            if p.get("external_id") and v.get("external_id") == p["external_id"]
        ),
        None,
    )
    old = fake.views.get(vid or "")
    if old is None:
        return _err("not_found")
    if p.get("hash") and p["hash"] != old["hash"]:
        return _err("hash_conflict")
    view: Any = p.get("view")
    return _view_error(view) or _store_view(fake, view, old["id"], old["root_view_id"])


def _views_publish(fake: FakeSlack, p: Json) -> Json:
    user_id, view = str(p.get("user_id", "")), cast(Json, p.get("view"))
    if not user_id:
        return _err("invalid_arguments", "[ERROR] missing required field: user_id")
    if error := _view_error(view):
        return error
    old = fake.home_views.get(user_id)
    out = _store_view(fake, view, old["id"] if old else None)
    fake.home_views[user_id] = fake.views[out["view"]["id"]]
    return out


def _post_message(fake: FakeSlack, p: Json) -> Json:
    if error := _post_error(fake, p):
        return error
    channel = p["channel"]
    if channel.startswith(("U", "W")):  # posting to a user id lands in the DM with the bot
        channel = "D" + channel[1:]
    extra = {k: p[k] for k in ("blocks", "attachments", "metadata") if k in p}
    ts = fake.add_message(
        channel,
        p.get("text", ""),
        user=fake.bot_user_id,
        thread_ts=p.get("thread_ts") or None,
        bot_id=fake.bot_id,
        app_id=fake.app_id,
        subtype="bot_message",
        **extra,
    )
    return {
        "ok": True,
        "channel": channel,
        "ts": ts,
        "message": copy.deepcopy(fake.messages[(channel, ts)]),
    }


def _post_ephemeral(fake: FakeSlack, p: Json) -> Json:
    if not p.get("user"):
        return _err("user_not_found")
    return _post_error(fake, p) or {"ok": True, "message_ts": fake.next_ts()}


def _chat_update(fake: FakeSlack, p: Json) -> Json:
    channel, ts = p.get("channel", ""), p.get("ts", "")
    msg = fake.messages.get((channel, ts))
    if msg is None:
        return _err("message_not_found")
    if msg.get("bot_id") != fake.bot_id:
        return _err("cant_update_message")
    if error := _post_error(fake, {**msg, **p}):
        return error
    msg.update({k: p[k] for k in ("text", "blocks", "attachments", "metadata") if k in p})
    msg["edited"] = {"user": fake.bot_user_id, "ts": fake.next_ts()}
    return {
        "ok": True,
        "channel": channel,
        "ts": ts,
        "text": msg.get("text", ""),
        "message": copy.deepcopy(msg),
    }


def _chat_delete(fake: FakeSlack, p: Json) -> Json:
    channel, ts = p.get("channel", ""), p.get("ts", "")
    msg = fake.messages.get((channel, ts))
    if msg is None:
        return _err("message_not_found")
    if msg.get("bot_id") != fake.bot_id:
        return _err("cant_delete_message")
    del fake.messages[(channel, ts)]
    return {"ok": True, "channel": channel, "ts": ts}


METHODS: dict[str, Callable[[FakeSlack, Json], Json]] = {
    "auth.test": _auth_test,
    "apps.connections.open": _apps_connections_open,
    "oauth.v2.access": _oauth_v2_access,
    "reactions.get": _reactions_get,
    "users.info": _users_info,
    "team.info": _team_info,
    "chat.getPermalink": _get_permalink,
    "conversations.info": _conversations_info,
    "conversations.join": _conversations_join,
    "conversations.history": _conversations_history,
    "views.open": _views_open,
    "views.push": _views_push,
    "views.update": _views_update,
    "views.publish": _views_publish,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "chat.update": _chat_update,
    "chat.delete": _chat_delete,
}


def _parse_body(content_type: str, raw: bytes) -> Json:
    """Decode a JSON, form-urlencoded or multipart body into a dict."""
    ctype = content_type.split(";")[0].strip().lower()
    if not raw:
        return {}
    if ctype == "application/json":
        data = json.loads(raw.decode("utf-8"))
        return data if isinstance(data, dict) else {"_body": data}
    if ctype == "multipart/form-data":
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        out: Json = {}
        for part in msg.iter_parts():
            payload = cast(bytes, part.get_payload(decode=True))
            name = part.get_param("name", header="content-disposition")
            out[str(name)] = payload if part.get_filename() else payload.decode("utf-8")
        return out
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _decode_json_fields(params: Json) -> Json:
    for key in JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    return params


class _Handler(BaseHTTPRequestHandler):
    # TCP_NODELAY, as Slack's servers answer: the headers and the body are two writes,
    # and without it Nagle holds the body until the client's delayed ACK (~40 ms),
    # stalling every Web API call and response_url post the bot makes
    disable_nagle_algorithm = True
    server_version = "FakeSlack/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request stderr
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake: FakeSlack = self.server.fake  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        try:
            params = dict(parse_qsl(split.query, keep_blank_values=True))
            params.update(_parse_body(self.headers.get("Content-Type", ""), raw))
        except (ValueError, UnicodeDecodeError):
            return self._send(400, {"ok": False, "error": "invalid_form_data"})
        params = _decode_json_fields(params)
        if split.path.startswith("/response/"):
            key = split.path.removeprefix("/response/")
            method, token = "response_url", None
            params["_url"] = f"http://127.0.0.1:{fake.port}{split.path}"
        elif split.path.startswith("/api/"):
            method = split.path.removeprefix("/api/")
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
            if auth.startswith("Basic "):  # oauth.v2.access sends the client credentials so
                import base64

                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                params.setdefault("client_id", user)
                params.setdefault("client_secret", password)
            token = token or params.pop("token", None)
            params.pop("token", None)
        else:
            return self._send(404, "not_found")
        fake._record(Call(method, copy.deepcopy(params), token, headers))
        fault = fake._take_fault(method)
        if fault is not None:
            if fault.kind == "rate_limit":
                return self._send(
                    429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.value)}
                )
            if fault.kind == "server_error":
                return self._send(int(fault.value), {"ok": False, "error": "internal_error"})
            return self._send(200, {"ok": False, "error": fault.value})
        if method == "response_url":
            status, body = fake.handle_hook(key, params)
            return self._send(status, body)
        extra = {"x-oauth-scopes": ",".join(fake.scopes)}
        return self._send(200, fake.handle_api(method, params, token), extra)

    def _send(self, status: int, body: Json | str, headers: dict[str, str] | None = None) -> None:
        is_json = not isinstance(body, str)
        data = (json.dumps(body) if is_json else str(body)).encode("utf-8")
        self.send_response(status)
        ctype = "application/json; charset=utf-8" if is_json else "text/plain; charset=utf-8"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
