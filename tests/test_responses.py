"""Answers to response_urls go over kept-alive connections (bot/slack/responses.py)."""

from __future__ import annotations

import base64
import json
import logging
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.slack.responses import ResponsePoster, bypasses_proxy
from tests.fakes.http_proxy import Asked, FakeProxy


class _Hooks(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, keep_alive: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keep_alive = keep_alive
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.connections = 0
        self.status = 200

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _Hooks

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1
        self.protocol_version = "HTTP/1.1" if self.server.keep_alive else "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append((self.path, json.loads(raw)))
        body = b"ok"
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(keep_alive: bool) -> Iterator[_Hooks]:
    server = _Hooks(keep_alive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hooks() -> Iterator[_Hooks]:
    yield from _serve(keep_alive=True)


@pytest.fixture
def closing_hooks() -> Iterator[_Hooks]:
    yield from _serve(keep_alive=False)


def test_answers_reuse_one_connection(hooks: _Hooks) -> None:
    poster = ResponsePoster()
    for n in range(3):
        respond = poster.respond_to(f"{hooks.root}/commands/T1/{n}/secret")
        assert respond(text=f"answer {n}", blocks=[{"type": "divider"}],
                       response_type="ephemeral", replace_original=False) == 200
    assert [p for p, _ in hooks.posts] == [f"/commands/T1/{n}/secret" for n in range(3)]
    assert hooks.posts[0][1] == {"text": "answer 0", "blocks": [{"type": "divider"}],
                                 "response_type": "ephemeral", "replace_original": False}
    assert poster.opened == 1 and hooks.connections == 1
    poster.close()


def test_a_server_that_closes_gets_a_new_connection_each_time(closing_hooks: _Hooks) -> None:
    poster = ResponsePoster()
    for n in range(2):
        assert poster.post(f"{closing_hooks.root}/hook/{n}", {"text": "hi"}) == 200
    assert len(closing_hooks.posts) == 2
    assert poster.opened == 2


def test_an_idle_connection_closed_by_the_server_is_replaced_once(hooks: _Hooks) -> None:
    poster = ResponsePoster()
    assert poster.post(f"{hooks.root}/hook/1", {"text": "one"}) == 200
    for conns in poster._idle.values():  # the idle connection breaks
        for conn in conns:
            assert conn.sock is not None
            conn.sock.shutdown(2)
    assert poster.post(f"{hooks.root}/hook/2", {"text": "two"}) == 200
    assert [b["text"] for _, b in hooks.posts] == ["one", "two"]  # sent once each
    assert poster.opened == 2


def test_a_refused_post_is_logged_without_its_url(hooks: _Hooks,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    hooks.status = 404
    with caplog.at_level(logging.WARNING, logger="bot.slack.responses"):
        assert ResponsePoster().post(f"{hooks.root}/commands/T1/9/capability",
                                     {"text": "x"}) == 404
    assert "response_url post refused" in caplog.text
    assert all("capability" not in str(vars(r)) for r in caplog.records)


def test_only_http_urls_are_posted_to() -> None:
    with pytest.raises(ValueError):
        ResponsePoster().post("file:///etc/passwd", {"text": "x"})


# ---- behind a proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read by bot/config.py) ----------
def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and its key, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    # Valid over a fixed wide window, not around "now": OpenSSL checks it against the real
    # clock while the tests may run with Python's clock moved (--shift-days).
    utc = datetime.timezone.utc
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2000, 1, 1, tzinfo=utc))
            .not_valid_after(datetime.datetime(2099, 12, 31, tzinfo=utc))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "hooks.pem", tmp_path / "hooks.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def proxy() -> Iterator[FakeProxy]:
    with FakeProxy() as running:
        yield running


def test_an_https_answer_goes_through_the_proxy_in_a_connect_tunnel(
        tmp_path: Path, proxy: FakeProxy) -> None:
    cert, key = _self_signed(tmp_path)
    server = _Hooks(keep_alive=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    trusting = ssl.create_default_context(cafile=str(cert))  # verified, not switched off
    poster = ResponsePoster(proxy=proxy.url.replace("http://", "http://bot:s%40cret@"),
                            ssl_context=trusting)
    try:
        for n in range(2):
            assert poster.post(f"https://localhost:{port}/commands/T1/{n}/capability",
                               {"text": f"answer {n}"}) == 200
    finally:
        poster.close()
        server.shutdown()
        server.server_close()
    assert [b["text"] for _, b in server.posts] == ["answer 0", "answer 1"]
    expected = "Basic " + base64.b64encode(b"bot:s@cret").decode()
    assert proxy.asked == [Asked("CONNECT", f"localhost:{port}", expected)]  # one, kept
    assert poster.opened == 1


def test_a_plain_http_answer_goes_to_the_proxy_as_an_absolute_uri(
        hooks: _Hooks, proxy: FakeProxy) -> None:
    poster = ResponsePoster(proxy=proxy.url.removeprefix("http://"))  # host:port, as urllib
    for n in range(2):
        assert poster.post(f"{hooks.root}/hook/{n}?x=1", {"text": f"hi {n}"}) == 200
    poster.close()
    assert [a.target for a in proxy.asked] == [f"{hooks.root}/hook/{n}?x=1" for n in range(2)]
    assert {a.method for a in proxy.asked} == {"POST"}
    assert [b["text"] for _, b in hooks.posts] == ["hi 0", "hi 1"]
    assert proxy.connections == 1 and poster.opened == 1  # the proxy connection is kept


def test_no_proxy_hosts_are_reached_directly(hooks: _Hooks, proxy: FakeProxy) -> None:
    for no_proxy in ("127.0.0.1", "localhost, 127.0.0.1", "*",
                     f"127.0.0.1:{hooks.server_address[1]}"):
        poster = ResponsePoster(proxy=proxy.url, no_proxy=no_proxy)
        assert poster.post(f"{hooks.root}/hook/direct", {"text": "x"}) == 200
        poster.close()
    assert proxy.asked == []
    assert len(hooks.posts) == 4
    assert bypasses_proxy("hooks.slack.com", 443, ".slack.com")
    assert bypasses_proxy("hooks.slack.com", 443, "slack.com")
    assert not bypasses_proxy("hooks.slack.com", 443, "ack.com,example.org")
    assert not bypasses_proxy("hooks.slack.com", 443, "hooks.slack.com:8443")


def test_a_proxy_it_cannot_speak_to_is_left_to_bolts_respond() -> None:
    from bot.slack.listeners.runtime import Runtime

    for unusable in ("socks5://127.0.0.1:1080", "http://proxy:port"):
        assert not ResponsePoster(proxy=unusable).handles("https://hooks.slack.com/x")
    poster = ResponsePoster(proxy="socks5://127.0.0.1:1080")
    assert not poster.handles("https://hooks.slack.com/commands/T1/1/x")
    assert ResponsePoster(proxy="socks5://p:1", no_proxy="slack.com").handles(
        "https://hooks.slack.com/commands/T1/1/x")

    def fallback() -> None:
        pass

    runtime = Runtime.__new__(Runtime)  # respond_via only reads ``responses``
    runtime.responses = poster
    assert runtime.respond_via("https://hooks.slack.com/commands/T1/1/x", fallback) \
        is fallback


def test_settings_read_the_proxy_as_slack_sdk_does() -> None:
    from bot.config import Settings

    env = {"HTTP_PROXY": "http://plain:3128", "https_proxy": "http://lower:3128",
           "no_proxy": "internal.example"}
    settings = Settings.from_env(env)
    assert (settings.proxy_url, settings.no_proxy) == ("http://lower:3128",
                                                       "internal.example")
    settings = Settings.from_env({"HTTPS_PROXY": "http://u:pw@upper:3128",
                                  "HTTP_PROXY": "http://plain:3128", "NO_PROXY": "*"})
    assert (settings.proxy_url, settings.no_proxy) == ("http://u:pw@upper:3128", "*")
    assert "pw" not in repr(settings)
    assert Settings.from_env({"HTTP_PROXY": "http://plain:3128"}).proxy_url == \
        "http://plain:3128"
    assert Settings.from_env({}).proxy_url is None


def test_voice_answers_reach_slack_through_the_configured_proxy(
        tmp_path: Path, proxy: FakeProxy) -> None:
    """End to end: the server built from Settings posts /voice's answer via the proxy."""
    from store.queries.quotes import NewQuote
    from tests.fakes.slack_api import FakeSlack
    from tests.slack_harness import serve_bot

    with FakeSlack() as slack:
        slack.add_user("U1", "Ana Teammate")
        slack.add_channel("C1", "general")
        with serve_bot(tmp_path, slack, proxy_url=proxy.url) as bot:
            bot.services.capture.save(NewQuote(team_id="T0001", speaker_name="Jo",
                                               text="The invoice export is broken again"))
            resp, hook = bot.command("invoice export")
            assert resp.status == 200
            (reply,) = bot.responses(hook)
    assert "invoice export" in json.dumps(reply).lower()
    assert [a.target for a in proxy.asked if a.method == "POST"] == [hook]
