"""A fake Slack Socket Mode endpoint: a real WebSocket server (RFC 6455) on 127.0.0.1.

It speaks Slack's envelope protocol as the Socket Mode docs and slack-sdk's own tests
describe it: ``{"type": "hello"}`` after the handshake; ``events_api``, ``slash_commands``
and ``interactive`` envelopes, each with an ``envelope_id`` the app must acknowledge by
sending ``{"envelope_id": ...}`` back (with an optional ``payload``); ``{"type":
"disconnect", "reason": "refresh_requested" | "warning" | ...}`` before Slack rotates a
connection; pings answered with pongs. ``FakeSlack.enable_socket_mode()`` serves
``apps.connections.open`` with a ``ws://127.0.0.1:PORT/link/?ticket=...`` URL from here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Self

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
Json = dict[str, Any]


@dataclass(frozen=True)
class Ack:
    """The app's acknowledgement of one envelope, and how long after sending it came."""

    envelope_id: str
    payload: Json | None
    seconds: float
    connection: int


@dataclass
class Connection:
    """One accepted WebSocket; frames are written under ``lock``."""

    number: int
    sock: socket.socket
    ticket: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: bool = True

    def send(self, opcode: int, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(frame(opcode, data))

    def send_json(self, message: Json) -> None:
        self.send(OP_TEXT, json.dumps(message).encode())


def frame(opcode: int, data: bytes) -> bytes:
    """A final, unmasked frame (servers never mask, RFC 6455 section 5.1)."""
    head = bytes([0x80 | opcode])
    n = len(data)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + data


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One complete message from a client (which must mask); fragments are joined."""
    payload, first_opcode = b"", None
    while True:
        b1, b2 = _read_exact(sock, 2)
        opcode, fin, length = b1 & 0x0F, b1 & 0x80, b2 & 0x7F
        if not b2 & 0x80:
            raise ConnectionError("client frame not masked")
        if length == 126:
            length = struct.unpack("!H", _read_exact(sock, 2))[0]
        elif length == 127:
            length = struct.unpack("!Q", _read_exact(sock, 8))[0]
        mask = _read_exact(sock, 4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(_read_exact(sock, length)))
        if opcode >= OP_CLOSE:  # control frames are never fragmented
            return opcode, data
        payload += data
        first_opcode = opcode if first_opcode is None else first_opcode
        if fin:
            return first_opcode, payload


class FakeSocketMode:
    """The WebSocket side of Socket Mode. Thread-safe; every connection is served on its
    own daemon thread. ``send_envelope`` goes to the newest open connection."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self.acks: dict[str, Ack] = {}
        self.received: list[Json] = []  # every JSON text frame from the app
        self.handshakes: list[dict[str, str]] = []
        self.tickets: set[str] = set()
        self._sent_at: dict[str, float] = {}
        self._cond = threading.Condition()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, name="fake-socket-mode",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        for conn in list(self.connections):
            self._close(conn)
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._listener is not None, "FakeSocketMode is not started"
        return int(self._listener.getsockname()[1])

    def new_url(self) -> str:
        """What ``apps.connections.open`` hands out: a one-time ticket on this server."""
        ticket = uuid.uuid4().hex
        with self._cond:
            self.tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id=A1"

    # ---- what tests do ---------------------------------------------------------------------
    def send_envelope(self, kind: str, payload: Json, *, accepts_response_payload: bool = False,
                      retry_attempt: int = 0) -> str:
        """Send an ``events_api`` / ``slash_commands`` / ``interactive`` envelope to the
        newest connection; returns its ``envelope_id``."""
        conn = self.wait_connections(1)[-1]
        envelope_id = str(uuid.uuid4())
        envelope: Json = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                          "accepts_response_payload": accepts_response_payload}
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="")
        with self._cond:
            self._sent_at[envelope_id] = time.monotonic()
        conn.send_json(envelope)
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack | None:
        """The app's acknowledgement of ``envelope_id``, or None if none came in ``timeout``."""
        with self._cond:
            self._cond.wait_for(lambda: envelope_id in self.acks, timeout=timeout)
            return self.acks.get(envelope_id)

    def wait_connections(self, count: int, timeout: float = 15.0) -> list[Connection]:
        """The open connections, once at least ``count`` have said hello."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.open_connections()) >= count,
                                timeout=timeout)
            found = self.open_connections()
        assert len(found) >= count, f"{len(found)} open Socket Mode connections, wanted {count}"
        return found

    def wait_total(self, count: int, timeout: float = 15.0) -> int:
        """Wait until ``count`` connections were accepted in all; returns how many open."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.connections) >= count and
                                bool(self.open_connections()), timeout=timeout)
            assert len(self.connections) >= count, (
                f"{len(self.connections)} Socket Mode connections in all, wanted {count}")
            return len(self.open_connections())

    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.open]

    def disconnect(self, reason: str = "refresh_requested") -> Connection:
        """Slack's ``disconnect`` message on the newest connection (it stays open until the
        app has reconnected, as Slack leaves it for a while)."""
        conn = self.wait_connections(1)[-1]
        conn.send_json({"type": "disconnect", "reason": reason,
                        "debug_info": {"host": "fake-applink"}})
        return conn

    def drop(self, code: int = 1001, reason: str = "going away") -> Connection:
        """Close the newest connection from the server side: a close frame, then the
        socket, as when Slack's edge restarts."""
        conn = self.wait_connections(1)[-1]
        try:
            conn.send(OP_CLOSE, struct.pack("!H", code) + reason.encode())
        except OSError:
            pass
        self._close(conn)
        return conn

    # ---- server ----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while self._listener is not None:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True,
                             name="fake-socket-mode-conn").start()

    def _handshake(self, sock: socket.socket) -> str | None:
        """Answer the HTTP upgrade; the ticket, or None after refusing it."""
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            raw += chunk
        head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        request_line, headers = head[0], {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        with self._cond:
            self.handshakes.append(headers)
        path = request_line.split(" ")[1] if " " in request_line else ""
        ticket = path.partition("ticket=")[2].partition("&")[0]
        key = headers.get("sec-websocket-key", "")
        with self._cond:
            known = ticket in self.tickets
            self.tickets.discard(ticket)  # a ticket opens one connection
        if (not request_line.startswith("GET /link/") or not known or not key
                or headers.get("upgrade", "").lower() != "websocket"
                or headers.get("sec-websocket-version") != "13"):
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            return None
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        return ticket

    def _serve(self, sock: socket.socket) -> None:
        try:
            ticket = self._handshake(sock)
        except OSError:
            ticket = None
        if ticket is None:
            sock.close()
            return
        with self._cond:
            conn = Connection(len(self.connections) + 1, sock, ticket)
            self.connections.append(conn)
        conn.send_json({"type": "hello", "num_connections": len(self.open_connections()),
                        "debug_info": {"host": "fake-applink", "approximate_connection_time":
                                       18060},
                        "connection_info": {"app_id": "A1"}})
        with self._cond:
            self._cond.notify_all()
        try:
            while conn.open:
                opcode, data = read_frame(sock)
                if opcode == OP_PING:
                    conn.send(OP_PONG, data)
                elif opcode == OP_CLOSE:
                    conn.send(OP_CLOSE, data[:2])
                    break
                elif opcode == OP_TEXT:
                    self._received(conn, data)
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            self._close(conn)

    def _received(self, conn: Connection, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        now = time.monotonic()
        with self._cond:
            self.received.append(message)
            envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
            if envelope_id in self._sent_at and envelope_id not in self.acks:
                self.acks[envelope_id] = Ack(envelope_id, message.get("payload"),
                                             now - self._sent_at[envelope_id], conn.number)
            self._cond.notify_all()

    def _close(self, conn: Connection) -> None:
        with self._cond:
            was_open, conn.open = conn.open, False
            self._cond.notify_all()
        if was_open:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.sock.close()


def random_key() -> str:
    """A Sec-WebSocket-Key, for tests that open a socket by hand."""
    return base64.b64encode(os.urandom(16)).decode()
