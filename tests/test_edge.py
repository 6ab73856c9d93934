"""The HTTP edge keeps its promises: nothing unverified is stored or logged, and a delivery
(however often Slack or anyone else resends it) runs once across every replica."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.logs import StructuredFormatter
from bot.slack.dedupe import Receipts
from store.models import Quote
from store.queries import receipts
from store.queries.quotes import NewQuote
from tests.fakes import signing
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import SECRET, Bot, serve_bot

RETRY = "X-Slack-Retry-Num"
MARKER = "PRIVATE-BODY-MARKER"


def receipt_count(bot: Bot) -> int:
    with bot.services.sessions() as s:
        return receipts.count(s)


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The captured records as the production formatter writes them."""
    formatter = StructuredFormatter()
    return [formatter.format(r) for r in caplog.records]


def raw_post(bot: Bot, body: bytes, headers: dict[str, str]) -> int:
    """POST over a plain socket (no client-side limits); the status, or 0 if cut off."""
    host, port = bot.url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
               f"Content-Length: {len(body)}\r\n{head}\r\n").encode() + body
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        try:
            sock.sendall(request)
        except OSError:  # the server answered and closed before reading everything
            pass
        answer = sock.recv(200)
    return int(answer.split()[1]) if answer.startswith(b"HTTP/") else 0


def share_value(bot: Bot, text: str = "Search never finds my old invoices") -> str:
    quote = bot.services.capture.save(NewQuote(team_id="T0001", text=text, speaker_name="Ana"))
    return json.dumps({"id": quote.quote.id, "c": "C1", "t": None})


def settle(bot: Bot, method: str, count: int) -> int:
    """Wait for ``count`` calls to ``method``, give stragglers a moment, return the total."""
    bot.slack.wait_for(method, count=count, timeout=15)
    time.sleep(0.5)
    return len(bot.slack.calls_to(method))


# ---- 1. unauthenticated memory and log exhaustion ---------------------------------------
def test_unsigned_flood_is_refused_without_storing_or_logging_it(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = ("payload=" + MARKER * 50).encode()
    huge = "v0=" + "a" * 60_000  # under the server's header limit: reaches the gate
    now = str(int(time.time()))
    statuses = []
    for i in range(40):
        headers = {"Content-Type": signing.FORM, "X-Slack-Request-Timestamp": now,
                   "X-Slack-Signature": huge + str(i)}
        statuses.append(raw_post(bot, body, headers))
    forged = {"Content-Type": signing.FORM, "X-Slack-Request-Timestamp": now,
              "X-Slack-Signature": "v0=" + "0" * 64}
    stale = {**signing.sign(body.decode(), SECRET, int(time.time()) - 600),
             "Content-Type": signing.FORM}
    for headers in (forged, stale, {"Content-Type": signing.FORM}):
        statuses += [raw_post(bot, body, headers) for _ in range(5)]
    assert set(statuses) == {401}
    assert receipt_count(bot) == 0  # nothing recorded for an unverified request
    lines = logged(caplog)
    assert 0 < len(lines) <= len(statuses)  # at most one line per refusal
    assert all(len(line) < 300 for line in lines)
    text = "\n".join(lines)
    assert MARKER not in text and "aaaaaaaa" not in text and "0" * 64 not in text


def test_headers_beyond_slacks_size_are_refused_by_the_server(bot: Bot) -> None:
    status = raw_post(bot, b"x=1", {"Content-Type": signing.FORM,
                                    "X-Slack-Signature": "v0=" + "a" * 200_000})
    assert status in (400, 431)
    assert receipt_count(bot) == 0


def test_oversized_body_gets_413_before_it_is_sent_whole(bot: Bot) -> None:
    host, port = bot.url.removeprefix("http://").split(":")
    headers = signing.sign("x", SECRET)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall((f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\n"
                      f"Content-Type: {signing.FORM}\r\nContent-Length: {50 * 1024 * 1024}\r\n"
                      f"{head}\r\n").encode() + b"payload=" + b"x" * 1024)
        answer = sock.recv(200)  # 50 MB announced, 1 KB sent: the answer comes anyway
    assert answer.split()[1] == b"413"


class CountingInput(io.BytesIO):
    """A request body that records how much of it was read."""

    def __init__(self, size: int) -> None:
        super().__init__(b"payload=" + b"x" * size)
        self.taken = 0

    def read(self, n: int | None = -1) -> bytes:  # type: ignore[override]
        chunk = super().read(n)
        self.taken += len(chunk)
        return chunk


@pytest.mark.parametrize("declared", [True, False])
def test_gate_refuses_oversized_bodies_without_reading_them_whole(declared: bool) -> None:
    from bot.gate import MAX_BODY, RequestGate
    from bot.server import BotWSGI

    def bolt(environ, start_response):  # type: ignore[no-untyped-def]
        raise AssertionError("an oversized body reached Bolt")

    wsgi = BotWSGI()
    wsgi.ready(bolt, RequestGate(SECRET))
    body = CountingInput(4 * MAX_BODY)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "wsgi.input": body,
               **{f"HTTP_{k.upper().replace('-', '_')}": v
                  for k, v in signing.sign("x", SECRET).items()}}
    if declared:
        environ["CONTENT_LENGTH"] = str(len(body.getvalue()))
    answers: list[str] = []
    wsgi(environ, lambda status, headers: answers.append(status))
    assert answers == ["413 Payload Too Large"]
    assert body.taken <= (0 if declared else MAX_BODY + 1)


def test_bolt_never_logs_request_details(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    caplog.set_level(logging.INFO)
    suggestion = {"type": "block_suggestion", "team": {"id": "T0001"},
                  "user": {"id": "U1"}, "action_id": "nobody_listens", "block_id": "b",
                  "value": MARKER, "api_app_id": "A1"}
    assert bot.send(signing.interactive(suggestion)).status in (200, 404)
    assert MARKER not in "\n".join(logged(caplog))


# ---- 2. retries and replays run once ----------------------------------------------------
def test_share_retried_three_times_posts_once(bot: Bot) -> None:
    value = share_value(bot)
    click = signing.block_actions("voice_share", value, response_url=bot.slack.new_response_url())
    ts = int(time.time())
    assert bot.send(click, timestamp=ts).status == 200
    for n in (1, 2, 3):  # the same bytes resent as retries, then re-signed ones
        assert bot.send(click, timestamp=ts, headers={RETRY: str(n)}).status == 200
        assert bot.send(click, timestamp=ts + n, headers={RETRY: str(n)}).status == 200
    # a different person pressing the same button is not a retry
    other = signing.block_actions("voice_share", value, user_id="U2",
                                  response_url=bot.slack.new_response_url())
    assert bot.send(other).status == 200
    assert settle(bot, "chat.postMessage", 2) == 2


def test_exact_replay_without_retry_header_is_refused(bot: Bot) -> None:
    click = signing.block_actions("voice_share", share_value(bot))
    ts = int(time.time())
    assert bot.send(click, timestamp=ts).status == 200
    resp = bot.send(click, timestamp=ts)
    assert (resp.status, resp.text) == (401, "replayed request")


def test_event_delivered_to_two_replicas_on_one_sqlite_file_is_captured_once(
        tmp_path: Path) -> None:
    with FakeSlack() as slack:
        slack.add_user("UCUST", "Casey Customer")
        slack.add_channel("C1", "general")
        shared = f"sqlite:///{tmp_path / 'shared.db'}"
        with serve_bot(tmp_path / "a", slack, database_url=shared) as one, \
                serve_bot(tmp_path / "b", slack, database_url=shared) as two:
            ts = slack.add_message("C1", "Why does billing email me twice?", user="UCUST")
            event = signing.reaction_added("U1", "loudspeaker", "C1", ts)
            first = signing.event_callback(event, event_id="EvTWICE")
            again = signing.event_callback(event, event_id="EvTWICE")  # new envelope
            assert first != again
            assert one.send(first).status == 200
            assert two.send(again, headers={RETRY: "1", "X-Slack-Retry-Reason":
                                            "http_timeout"}).status == 200
            other = slack.add_message("C1", "Exports never finish", user="UCUST")
            two.event(signing.reaction_added("U1", "loudspeaker", "C1", other))
            assert settle(one, "chat.postEphemeral", 2) == 2
            assert len(slack.calls_to("reactions.get")) == 2  # one per message


def test_distinct_commands_and_submissions_are_not_taken_for_retries(bot: Bot) -> None:
    hooks = []
    for _ in range(2):  # the same words, typed twice: two triggers, two answers
        resp, hook = bot.command("billing", trigger_id=signing.new_trigger_id())
        assert resp.status == 200
        hooks.append(hook)
    assert all(len(bot.responses(h)) == 1 for h in hooks)
    same, _ = bot.command("billing", trigger_id="T-REUSED")
    again, _ = bot.command("billing", trigger_id="T-REUSED")  # a retry of that command
    assert same.status == again.status == 200
    assert settle(bot, "response_url", 3) == 3


def test_two_replicas_sharing_one_database_run_a_retry_once(
        tmp_path: Path, clean_postgres: str) -> None:
    with FakeSlack() as slack:
        slack.add_user("U1", "Ana Teammate")
        slack.add_channel("C1", "general")
        with serve_bot(tmp_path / "a", slack, database_url=clean_postgres) as one, \
                serve_bot(tmp_path / "b", slack, database_url=clean_postgres) as two:
            click = signing.block_actions("voice_share", share_value(one))
            ts = int(time.time())
            assert one.send(click, timestamp=ts).status == 200
            replayed = two.send(click, timestamp=ts)  # the same bytes, the other replica
            assert (replayed.status, replayed.text) == (401, "replayed request")
            assert two.send(click, timestamp=ts, headers={RETRY: "1"}).status == 200
            assert two.send(click, timestamp=ts + 1, headers={RETRY: "2"}).status == 200
            fence = signing.block_actions("voice_share", share_value(one, "Other words"))
            assert two.send(fence).status == 200
            assert settle(one, "chat.postMessage", 2) == 2


def test_expired_receipts_are_purged_and_their_keys_free_again(
        make_services, database_url: str) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    services = make_services(database_url, clock=clock)
    kept = Receipts(services.sessions, clock=clock)
    assert kept.claim("event:x") and not kept.claim("event:x")
    assert kept.claim("event:y")
    clock.advance(minutes=11)
    assert kept.purge() == 2
    with services.sessions() as s:
        assert receipts.count(s) == 0
    assert kept.claim("event:x")


def test_signature_and_delivery_are_claimed_together_and_only_for_a_new_signature(
        make_services, database_url: str) -> None:  # type: ignore[no-untyped-def]
    services = make_services(database_url)
    kept = Receipts(services.sessions)
    assert kept.claim_request("signature:a", "event:one") == (True, True)
    assert kept.claim_request("signature:a", "event:two") == (False, None)  # a replay
    assert kept.claim("event:two")  # ...claimed nothing of its own
    assert kept.claim_request("signature:b", "event:one") == (True, False)  # a retry
    assert kept.claim_request("signature:c") == (True, None)
    with services.sessions() as s:
        assert receipts.count(s) == 5


def test_a_delivery_refused_before_it_ran_keeps_no_receipt(bot: Bot) -> None:
    """The gate claims a delivery with its signature; when Bolt then refuses the request
    (here: another workspace), the delivery's receipt is given back, so a retry is judged
    again instead of acknowledged as already run."""
    ts = bot.slack.add_message("C1", "Exports never finish", user="UCUST")
    event = signing.reaction_added("U1", "loudspeaker", "C1", ts)
    foreign = signing.event_callback(event, team_id="TOTHER", event_id="EvFOREIGN")
    assert bot.send(foreign).status == 401
    assert receipt_count(bot) == 1  # its signature only
    retried = bot.send(foreign, timestamp=int(time.time()) + 1, headers={RETRY: "1"})
    assert retried.status == 401  # refused again, not "already run"
    assert quote_total(bot) == 0


def quote_total(bot: Bot) -> int:
    with bot.services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Quote)) or 0)


def test_socket_mode_serves_no_unsigned_http_events(tmp_path: Path) -> None:
    with FakeSlack() as slack, serve_bot(tmp_path, slack, slack_app_token="xapp-1-test",
                                         slack_signing_secret=None) as bot:
        import urllib.request

        with urllib.request.urlopen(bot.url + "/healthz") as health:
            assert health.status == 200
        ts = slack.add_message("C1", "Forged capture", user="U1")
        body, ctype = signing.event_callback(signing.reaction_added("U1", "loudspeaker", "C1",
                                                                    ts))
        assert signing.post(bot.url + "/slack/events", body, ctype, None).status == 404
        time.sleep(0.5)
        with bot.services.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Quote)) == 0
        assert slack.calls_to("reactions.get") == []
        # a Socket Mode envelope redelivered (Slack retries those too) runs once
        from slack_bolt.request import BoltRequest

        ts = slack.add_message("C1", "Real capture over the socket", user="U1")
        envelope = json.loads(signing.event_callback(
            signing.reaction_added("U2", "loudspeaker", "C1", ts), event_id="EvSOCK")[0])
        for _ in range(3):
            assert bot.app.dispatch(BoltRequest(body=envelope, mode="socket_mode")).status == 200
        other = slack.add_message("C1", "Another capture", user="U1")
        bot.app.dispatch(BoltRequest(body=json.loads(signing.event_callback(
            signing.reaction_added("U2", "loudspeaker", "C1", other))[0]), mode="socket_mode"))
        assert settle(bot, "chat.postEphemeral", 2) == 2
        assert len(slack.calls_to("reactions.get")) == 2
