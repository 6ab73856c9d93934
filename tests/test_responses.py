"""Answers to response_urls go over kept-alive connections (bot/slack/responses.py)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.slack.responses import ResponsePoster


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
