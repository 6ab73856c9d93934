"""A forward HTTP proxy on 127.0.0.1 that records what it is asked: ``CONNECT host:port``
tunnels (for https targets) and absolute-URI requests (``POST http://host:port/path``, for
plain-http ones), each with its ``Proxy-Authorization`` header. Real sockets, real HTTP."""

from __future__ import annotations

import http.client
import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Asked:
    method: str
    target: str  # "host:port" for CONNECT, the absolute URI otherwise
    authorization: str | None


class FakeProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.asked: list[Asked] = []
        self.connections = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, asked: Asked) -> None:
        with self._lock:
            self.asked.append(asked)

    def __enter__(self) -> Self:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    server: FakeProxy
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _record(self) -> None:
        self.server.record(Asked(self.command, self.path,
                                 self.headers.get("Proxy-Authorization")))

    def do_CONNECT(self) -> None:
        self._record()
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        with upstream:
            _relay(self.connection, upstream)

    def do_POST(self) -> None:
        self._record()
        if not self.path.startswith("http://"):
            self.send_error(400, "a proxy takes absolute URIs")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        rest = self.path[len("http://"):]
        netloc, _, path = rest.partition("/")
        conn = http.client.HTTPConnection(netloc, timeout=5)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("proxy-authorization", "connection", "host")}
            conn.request("POST", "/" + path, body=body, headers=headers)
            resp = conn.getresponse()
            answer = resp.read()
        finally:
            conn.close()
        self.send_response(resp.status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [a, b]
    while True:
        readable, _, broken = select.select(sockets, [], sockets, 10)
        if broken or not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            (b if sock is a else a).sendall(data)
