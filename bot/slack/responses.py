"""Posting to a ``response_url`` over a kept-alive connection.

Bolt's ``respond`` builds a new ``WebhookClient`` and opens a new connection (a TCP and, in
production, a TLS handshake with ``hooks.slack.com``) for every answer. :class:`ResponsePoster`
keeps a few idle connections per host and reuses them; a connection the server closed in
the meantime is replaced once, as the Web API client retries a reset. The URL is a
capability: it is never logged (only its host).
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: Idle connections kept per (scheme, host, port); more are closed after use.
MAX_IDLE = 4
TIMEOUT = 10.0
#: Errors that say a kept-alive connection went stale before (or while) the request was sent.
STALE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError,
         BrokenPipeError, ConnectionAbortedError)

Key = tuple[str, str, int]
Connection = http.client.HTTPConnection


class ResponsePoster:
    """``post(url, message)`` sends JSON to a response_url; ``respond_to(url)`` is a
    drop-in for Bolt's ``respond`` (the same keyword arguments)."""

    def __init__(self, *, max_idle: int = MAX_IDLE, timeout: float = TIMEOUT,
                 connect: Callable[[Key, float], Connection] | None = None) -> None:
        self.max_idle = max_idle
        self.timeout = timeout
        self._connect = connect or _connect
        self._idle: dict[Key, list[Connection]] = {}
        self._lock = threading.Lock()
        self.opened = 0  # connections opened so far (tests, diagnostics)

    def respond_to(self, url: str) -> Callable[..., int]:
        def respond(text: str = "", blocks: list[dict] | None = None, **fields: Any) -> int:
            message: dict[str, Any] = {"text": text}
            if blocks is not None:
                message["blocks"] = blocks
            message.update({k: v for k, v in fields.items() if v is not None})
            return self.post(url, message)

        return respond

    def post(self, url: str, message: dict[str, Any]) -> int:
        """POST ``message`` as JSON; the HTTP status (an error status is logged, not raised,
        as Bolt's ``respond`` does). Raises OSError when the host cannot be reached."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("a response_url is an http(s) URL")
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https"
                                                            else 80))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = json.dumps(message).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Content-Length": str(len(body))}
        conn, reused = self._take(key)
        try:
            status, keep = _send(conn, path, body, headers)
        except STALE:
            conn.close()
            if not reused:
                raise
            conn, reused = self._open(key), False  # the server closed it while idle
            status, keep = self._send_fresh(conn, path, body, headers)
        except BaseException:
            conn.close()
            raise
        if keep:
            self._give_back(key, conn)
        else:
            conn.close()
        if status >= 400:
            log.warning("response_url post refused", extra={"host": key[1],
                                                            "status": status})
        return status

    @staticmethod
    def _send_fresh(conn: Connection, path: str, body: bytes,
                    headers: dict[str, str]) -> tuple[int, bool]:
        try:
            return _send(conn, path, body, headers)
        except BaseException:
            conn.close()
            raise

    def _take(self, key: Key) -> tuple[Connection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop(), True
        return self._open(key), False

    def _open(self, key: Key) -> Connection:
        with self._lock:
            self.opened += 1
        return self._connect(key, self.timeout)

    def _give_back(self, key: Key, conn: Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.max_idle:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def _connect(key: Key, timeout: float) -> Connection:
    scheme, host, port = key
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _send(conn: Connection, path: str, body: bytes,
          headers: dict[str, str]) -> tuple[int, bool]:
    """(status, whether the connection may be reused); the answer is read to its end."""
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status, not resp.will_close
