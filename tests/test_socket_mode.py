"""Socket Mode end to end: the bot connects as `voicebot serve` does (slack-sdk's built-in
WebSocket client, via bot.slack.startup.open_socket_mode) to a fake Socket Mode endpoint,
a real WebSocket server on 127.0.0.1 handed out by the fake Web API's
``apps.connections.open``. Envelopes go in, acknowledgements by ``envelope_id`` come back.

Acknowledgement times are printed (``-s`` shows them), never asserted: only that an ack
arrived at all (Slack gives up after 3 s, this waits longer so a slow CI is not a failure).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import func, select

from bot.slack.startup import SlackStartError, open_socket_mode
from bot.slack.views.modals import CAPTURE_CALLBACK
from store.models import Quote
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import Ack, FakeSocketMode, random_key
from tests.slack_harness import Bot, serve_bot

APP_TOKEN = "xapp-1-A1-socket-test"
ACK_WAIT = 15.0  # generous: the assertion is that an ack came, not how fast


@dataclass
class SocketBot:
    bot: Bot
    socket: FakeSocketMode
    ack_times: dict[str, list[float]]

    @property
    def slack(self) -> FakeSlack:
        return self.bot.slack

    def send(self, kind: str, payload: dict[str, Any], label: str, **kw: Any) -> Ack:
        envelope_id = self.socket.send_envelope(kind, payload, **kw)
        ack = self.socket.wait_ack(envelope_id, timeout=ACK_WAIT)
        assert ack is not None, f"no acknowledgement for the {label} envelope"
        self.ack_times.setdefault(label, []).append(ack.seconds)
        return ack

    def command(self, text: str, **kw: Any) -> tuple[Ack, str]:
        hook = self.slack.new_response_url()
        body, _ = signing.slash_command(text, response_url=hook, **kw)
        return self.send("slash_commands", dict(parse_qsl(body)), "/voice",
                         accepts_response_payload=True), hook

    def event(self, event: dict[str, Any], label: str, **kw: Any) -> Ack:
        return self.send("events_api", json.loads(signing.event_callback(event, **kw)[0]), label)

    def interactive(self, body: tuple[str, str], label: str) -> Ack:
        payload = json.loads(dict(parse_qsl(body[0]))["payload"])
        return self.send("interactive", payload, label, accepts_response_payload=True)


def quote_count(bot: Bot) -> int:
    with bot.services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Quote)) or 0)


@pytest.fixture
def sock(tmp_path: Path) -> Iterator[SocketBot]:
    with FakeSlack() as slack:
        fake_socket = slack.enable_socket_mode(APP_TOKEN)
        slack.add_user("U1", "Ana Teammate")
        slack.add_user("U2", "Bo Teammate")
        slack.add_user("UCUST", "Casey Customer")
        slack.add_channel("C1", "general")
        with serve_bot(tmp_path, slack, slack_app_token=APP_TOKEN,
                       slack_signing_secret=None) as bot:
            handler = open_socket_mode(bot.settings, bot.app)
            times: dict[str, list[float]] = {}
            try:
                fake_socket.wait_connections(1)
                yield SocketBot(bot, fake_socket, times)
            finally:
                handler.close()
                for label, seconds in times.items():
                    print(f"socket mode ack {label}: " + ", ".join(f"{s * 1000:.0f} ms"
                                                                  for s in seconds))


def test_connects_with_the_app_token_and_says_hello(sock: SocketBot) -> None:
    (opened,) = sock.slack.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN  # the app-level token, never the bot token
    (handshake,) = sock.socket.handshakes
    assert handshake["upgrade"].lower() == "websocket"
    assert handshake["sec-websocket-version"] == "13"
    assert len(sock.socket.open_connections()) == 1


def test_capture_voice_and_shortcut_over_the_socket(sock: SocketBot) -> None:
    slack = sock.slack
    ts = slack.add_message("C1", "Exporting the quarterly report takes forever", user="UCUST")
    ack = sock.event(signing.reaction_added("U1", "loudspeaker", "C1", ts, "UCUST"),
                     "reaction capture")
    assert ack.payload is None  # events are acknowledged with the envelope id alone
    (ephemeral,) = slack.wait_for("chat.postEphemeral", timeout=15)
    assert ephemeral.params["user"] == "U1"
    assert quote_count(sock.bot) == 1

    ack, hook = sock.command("quarterly report export")
    (reply,) = sock.bot.responses(hook)
    assert "Exporting the quarterly report takes forever" in json.dumps(reply["blocks"])

    message = {"type": "message", "user": "U2", "ts": "1700000500.000100",
               "text": "Customer said: the audit log is impossible to filter, they gave up."}
    sock.interactive(signing.message_action("save_user_voice", message), "message shortcut")
    (opened,) = slack.wait_for("views.open", timeout=15)
    view = opened.params["view"]
    assert view["callback_id"] == CAPTURE_CALLBACK
    bad = {"excerpt": {"value": {"type": "plain_text_input", "value": "not in the message"}}}
    ack = sock.interactive(signing.view_submission(
        CAPTURE_CALLBACK, bad, private_metadata=view["private_metadata"]), "modal submission")
    assert ack.payload and ack.payload["response_action"] == "errors"  # errors ride the ack
    assert "excerpt" in ack.payload["errors"] and quote_count(sock.bot) == 1
    good = {"excerpt": {"value": {"type": "plain_text_input",
                                  "value": "the audit log is impossible to filter"}}}
    ack = sock.interactive(signing.view_submission(
        CAPTURE_CALLBACK, good, private_metadata=view["private_metadata"]), "modal submission")
    assert not (ack.payload or {}).get("errors")
    deadline = time.monotonic() + 15
    while quote_count(sock.bot) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    with sock.bot.services.sessions() as s:
        texts = set(s.scalars(select(Quote.text)))
    assert texts == {"Exporting the quarterly report takes forever",
                     "the audit log is impossible to filter"}


def test_a_redelivered_envelope_is_acked_and_runs_once(sock: SocketBot) -> None:
    ts = sock.slack.add_message("C1", "Search never finds my old invoices", user="UCUST")
    event = signing.reaction_added("U1", "loudspeaker", "C1", ts, "UCUST")
    for _ in range(3):  # Slack retries an envelope it thinks went unacknowledged
        sock.event(event, "reaction capture", event_id="EvSOCKETRETRY")
    sock.slack.wait_for("chat.postEphemeral", timeout=15)
    time.sleep(0.5)
    assert quote_count(sock.bot) == 1
    assert len(sock.slack.calls_to("chat.postEphemeral")) == 1


def test_hostile_envelopes_are_acked_and_change_nothing(sock: SocketBot) -> None:
    ts = sock.slack.add_message("C1", "Another workspace's words", user="UCUST")
    # another workspace's event over this app's socket: refused, yet acknowledged
    sock.event(signing.reaction_added("U1", "loudspeaker", "C1", ts, "UCUST"),
               "reaction capture", team_id="TOTHER")
    # a payload Bolt cannot read: the connection survives it
    envelope_id = sock.socket.send_envelope("interactive", {"type": "block_actions"})
    sock.socket.wait_ack(envelope_id, timeout=5)
    sock.socket.wait_connections(1)[-1].send_json({"type": "nonsense", "envelope_id": 7})
    ack, hook = sock.command("anything at all")
    assert sock.bot.responses(hook)
    assert quote_count(sock.bot) == 0
    assert sock.slack.calls_to("reactions.get") == []


def test_reconnects_after_the_server_drops_the_socket(sock: SocketBot) -> None:
    first = sock.socket.drop()
    assert sock.socket.wait_total(2) >= 1
    assert len(sock.slack.calls_to("apps.connections.open")) == 2  # a fresh URL each time
    ts = sock.slack.add_message("C1", "Login codes arrive minutes late", user="UCUST")
    ack = sock.event(signing.reaction_added("U1", "loudspeaker", "C1", ts, "UCUST"),
                     "reaction capture")
    assert ack.connection != first.number
    sock.slack.wait_for("chat.postEphemeral", timeout=15)
    assert quote_count(sock.bot) == 1


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
def test_disconnect_message_moves_to_a_new_connection(sock: SocketBot, reason: str) -> None:
    old = sock.socket.disconnect(reason)
    sock.socket.wait_total(2)
    deadline = time.monotonic() + 15
    while old.open and time.monotonic() < deadline:  # the client closes the old one itself
        time.sleep(0.05)
    assert not old.open
    ack, hook = sock.command("anything")
    assert ack.connection != old.number
    assert sock.bot.responses(hook)


def test_fake_refuses_an_unknown_ticket() -> None:
    fake = FakeSocketMode().start()
    try:
        with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as conn:
            conn.sendall((f"GET /link/?ticket=forged HTTP/1.1\r\nHost: x\r\n"
                          f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {random_key()}\r\n"
                          f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
            assert conn.recv(100).startswith(b"HTTP/1.1 400")
        assert fake.connections == []
    finally:
        fake.stop()


def test_a_wrong_app_token_fails_in_one_line(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        slack.enable_socket_mode(APP_TOKEN)
        with serve_bot(tmp_path, slack, slack_app_token="xapp-1-A1-wrong",
                       slack_signing_secret=None) as bot, \
                pytest.raises(SlackStartError) as failed:
            open_socket_mode(bot.settings, bot.app)
    message = str(failed.value)
    assert "apps.connections.open" in message and "invalid_auth" in message
    assert "SLACK_APP_TOKEN" in message and "\n" not in message
