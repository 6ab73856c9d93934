"""Posting to a ``response_url`` over a kept-alive connection.

Bolt's ``respond`` builds a new ``WebhookClient`` and opens a new connection (a TCP and, in
production, a TLS handshake with ``hooks.slack.com``) for every answer. :class:`ResponsePoster`
keeps a few idle connections per host and reuses them; a connection the server closed in
the meantime is replaced once, as the Web API client retries a reset. The URL is a
capability: it is never logged (only its host).

Behind a proxy (``HTTPS_PROXY``/``HTTP_PROXY``, read by bot/config.py as slack_sdk reads
them; ``NO_PROXY`` respected), an https answer goes through a ``CONNECT`` tunnel and a plain
http one as an absolute-URI request, as ``urllib`` (and so Bolt's ``WebhookClient``) sends
them; the connection to the proxy itself is plain TCP, as urllib's. A proxy this module
cannot speak to (not ``http://``/``https://``) is left to Bolt's ``respond``
(:meth:`ResponsePoster.handles`).
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

#: Idle connections kept per (scheme, host, port); more are closed after use.
MAX_IDLE = 4
TIMEOUT = 10.0
#: Errors that say a kept-alive connection went stale before (or while) the request was sent.
STALE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError,
         BrokenPipeError, ConnectionAbortedError)

Key = tuple[str, str, int]
Connection = http.client.HTTPConnection


@dataclass(frozen=True)
class Proxy:
    """Where a proxy listens, and the ``Proxy-Authorization`` its URL's credentials make."""

    host: str
    port: int
    authorization: str | None = None

    @classmethod
    def parse(cls, url: str) -> Proxy | None:
        """``http://[user:password@]host[:port]`` (``https://`` or no scheme alike, as
        urllib reads them); None for any other scheme or no host."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # not a port number
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        auth = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return cls(parts.hostname, port, auth)


def bypasses_proxy(host: str, port: int, no_proxy: str | None) -> bool:
    """Whether ``NO_PROXY`` exempts ``host`` (as ``urllib.request.proxy_bypass_environment``
    reads it: ``*``, or names matching the host or a domain it is in, with or without a
    port)."""
    if not no_proxy:
        return False
    if no_proxy.strip() == "*":
        return True
    host = host.lower()
    with_port = f"{host}:{port}"
    for name in no_proxy.split(","):
        name = name.strip().lstrip(".").lower()
        if not name:
            continue
        if name in (host, with_port) or host.endswith("." + name) or \
                with_port.endswith("." + name):
            return True
    return False


class ResponsePoster:
    """``post(url, message)`` sends JSON to a response_url; ``respond_to(url)`` is a
    drop-in for Bolt's ``respond`` (the same keyword arguments)."""

    def __init__(self, *, max_idle: int = MAX_IDLE, timeout: float = TIMEOUT,
                 connect: Callable[[Key, float], Connection] | None = None,
                 proxy: str | None = None, no_proxy: str | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.max_idle = max_idle
        self.timeout = timeout
        self._connect = connect or self._connect_to
        self.proxy_url, self.no_proxy = proxy, no_proxy
        self.proxy = Proxy.parse(proxy) if proxy else None
        self._ssl_context = ssl_context
        self._idle: dict[Key, list[Connection]] = {}
        self._lock = threading.Lock()
        self.opened = 0  # connections opened so far (tests, diagnostics)

    def handles(self, url: str) -> bool:
        """False when ``url`` must go through a proxy this poster cannot use (the caller then
        falls back to Bolt's ``respond``, which reads the proxy settings itself)."""
        if not self.proxy_url or self.proxy is not None:
            return True
        parts = urlsplit(url)
        return bypasses_proxy(parts.hostname or "", parts.port or
                              (443 if parts.scheme == "https" else 80), self.no_proxy)

    def _proxy_for(self, key: Key) -> Proxy | None:
        if self.proxy is None or bypasses_proxy(key[1], key[2], self.no_proxy):
            return None
        return self.proxy

    def _connect_to(self, key: Key, timeout: float) -> Connection:
        scheme, host, port = key
        proxy = self._proxy_for(key)
        if proxy is None:
            return _connect(key, timeout, self._ssl_context)
        if scheme == "http":  # absolute-URI requests to the proxy (see :meth:`post`)
            return http.client.HTTPConnection(proxy.host, proxy.port, timeout=timeout)
        conn = http.client.HTTPSConnection(proxy.host, proxy.port, timeout=timeout,
                                           context=self._ssl_context)
        conn.set_tunnel(host, port, headers={"Proxy-Authorization": proxy.authorization}
                        if proxy.authorization else None)
        return conn

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
        proxy = self._proxy_for(key)
        if proxy is not None and key[0] == "http":  # a plain-http hook through the proxy
            host = f"[{key[1]}]" if ":" in key[1] else key[1]  # an IPv6 address
            path = f"http://{host}:{key[2]}{path}"
            if proxy.authorization:
                headers["Proxy-Authorization"] = proxy.authorization
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


def _connect(key: Key, timeout: float, context: ssl.SSLContext | None = None) -> Connection:
    scheme, host, port = key
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _send(conn: Connection, path: str, body: bytes,
          headers: dict[str, str]) -> tuple[int, bool]:
    """(status, whether the connection may be reused); the answer is read to its end."""
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status, not resp.will_close
