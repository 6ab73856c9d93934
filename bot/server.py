"""Serving: HTTP (waitress, a production WSGI server) or Socket Mode, plus /healthz."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.blas import limit_blas
from bot.config import Settings
from bot.container import build_services
from bot.gate import MAX_BODY, REPEATED, RequestGate, log_refusal, quiet_bolt_logs, refusal
from bot.heap import limit_arenas, trim_heap
from bot.periodic import Periodic
from bot.slack import dedupe
from bot.slack.app import create_app, make_delivery, team_clients
from bot.slack.dedupe import Receipts
from bot.slack.startup import (
    BotIdentity,
    SlackStartError,
    check_bot_token,
    open_socket_mode,
)
from store import db

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.container import Services

MAX_HEADERS = 64 * 1024
NO_HTTP_EVENTS = refusal("404 Not Found", "Socket Mode: no HTTP events endpoint", "not found")

log = logging.getLogger(__name__)
HEAP_TRIM_SECONDS = 30.0  # freed arena memory goes back to the OS (bot/heap.py)
RECEIPT_PURGE_SECONDS = 60.0  # expired request receipts deleted (bot/slack/dedupe.py)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class BotWSGI:
    """``POST /slack/events`` to Bolt, ``GET /healthz`` answers 200 only once ready.

    Every POST passes the :class:`~bot.gate.RequestGate` (size, timestamp, signature, then
    a receipt in the database) before Bolt sees it; nothing about a refused request is kept
    beyond one short log line. In Socket Mode there is no signed HTTP endpoint: POSTs are
    refused, ``/healthz`` and Bolt's GET pages (OAuth install) still answer.
    """

    def __init__(self) -> None:
        self.handler: WSGIApp | None = None
        self.gate: RequestGate | None = None
        self.status = "starting"

    def ready(self, handler: WSGIApp, gate: RequestGate | None = None) -> None:
        self.handler, self.gate, self.status = handler, gate, "ready"

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            code = "200 OK" if self.handler else "503 Service Unavailable"
            return _answer(start_response, code, self.status.encode())
        if self.handler is None:  # nothing read, nothing recorded while starting
            return _answer(start_response, "503 Service Unavailable", b"voicebot is starting",
                           [("Retry-After", "5")])
        method = environ.get("REQUEST_METHOD")
        if method == "POST":
            refused = NO_HTTP_EVENTS if self.gate is None else self.gate.admit(environ)
            if refused is not None:
                log_refusal(refused, environ, level=logging.INFO if refused is REPEATED
                            else logging.WARNING)
                return _answer(start_response, refused.status, refused.text)
        elif method != "GET":
            return _answer(start_response, "405 Method Not Allowed", b"method not allowed")
        return self._guarded(environ, start_response)

    def _guarded(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Bolt raises on bodies it cannot parse; answer 400 instead of a 500. A request
        that fails (5xx) gives its signature receipt back, so Slack's retry can run."""
        assert self.handler is not None
        receipt = environ.get("voicebot.receipt")

        def respond(status: str, headers: list[tuple[str, str]],
                    exc_info: Any = None) -> Any:
            if receipt and status.startswith("5") and self.gate and self.gate.receipts:
                self.gate.receipts.release(receipt)
            return start_response(status, headers, exc_info) if exc_info else \
                start_response(status, headers)

        try:
            return self.handler(environ, respond)
        except (ValueError, AttributeError, TypeError, KeyError, IndexError) as exc:  # bad body
            log.warning("malformed request refused", extra={"error": str(exc)[:200]})
            return _answer(start_response, "400 Bad Request", b"malformed request")
        finally:  # a delivery claimed by the gate that never reached the middleware
            if receipt and self.gate and self.gate.receipts:
                self.gate.receipts.release_unconfirmed()


def _answer(start_response: Callable, status: str, body: bytes,
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"),
                            ("Content-Length", str(len(body))), *(headers or [])])
    return [body]


def bolt_wsgi(app: App) -> WSGIApp:
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    return SlackRequestHandler(app)


@dataclass
class Started:
    """A running bot: the Bolt app and the background threads to stop on shutdown."""

    app: App
    stoppers: list[Callable[[], None]]
    quotes: int = 0  # quotes in the indexes at start

    def stop(self) -> None:
        for stop in self.stoppers:
            stop()


def warm(services: Services) -> None:
    """Warm the model (:meth:`~bot.core.vectors.Encoder.warm_up`: the first capture should
    not pay for set-up), then give back to the OS the pages that loading and warming freed
    (the emotion head's graph once its session is built, the first batches' buffers), so
    a ready server holds what it uses (bench/PERF.md measures it here, as serve runs it)."""
    services.encoder.warm_up()
    trim_heap()


def start(settings: Settings, wsgi: BotWSGI, services: Services | None = None,
          identity: BotIdentity | None = None) -> Started:
    """Load the model and indexes, warm them, build the app and mark ``wsgi`` ready.
    ``identity`` is what ``auth.test`` said about SLACK_BOT_TOKEN (asked here if not given)."""

    services = services or build_services(settings)
    log.info(f"model {services.embedder.name}", extra={"dimensions": services.embedder.dim})
    warm(services)
    team_id = enterprise_id = None
    if settings.slack_bot_token and not settings.slack_client_id:
        identity = identity or check_bot_token(settings)
        team_id, enterprise_id = identity.team_id, identity.enterprise_id
        services.workspaces.ensure(team_id, identity.team_name)
        log.info(f"Slack workspace {identity.team_name or team_id}",
                 extra={"team": team_id, "bot": identity.bot_user_id})
    app = create_app(settings, services, team_id=team_id, enterprise_id=enterprise_id)
    receipts = Receipts(services.sessions, clock=services.clock, engine=services.engine,
                        purge_every=None)  # purged below, never in a request's thread
    dedupe.install(app, receipts)  # HTTP and Socket Mode deliveries alike
    quiet_bolt_logs()
    # each replica polls for others' changes; digests are posted now, then every interval
    threads = [Periodic("index sync", services.sync.poll, settings.sync_seconds),
               Periodic("heap trim", trim_heap, HEAP_TRIM_SECONDS),
               Periodic("receipt purge", receipts.purge_and_log, RECEIPT_PURGE_SECONDS)]
    if settings.digest_scheduler:
        delivery = make_delivery(settings, services, _client_for(settings, services, app))
        threads.append(Periodic("digest", delivery.run_due, settings.digest_interval,
                                eager=True))
    for thread in threads:
        thread.start()
    wsgi.ready(bolt_wsgi(app), None if settings.socket_mode else
               RequestGate(settings.slack_signing_secret or "", receipts))
    return Started(app=app, stoppers=[t.stop for t in threads],
                   quotes=services.indexes.total())


def _client_for(settings: Settings, services: Services,
                app: App) -> Callable[[str], WebClient]:
    """Web API client per team: the single bot token, or the team's installed bot token."""
    if not settings.slack_client_id:
        return lambda _team: app.client
    from bot.slack.installations import installation_store

    return team_clients(settings, app.client, installation_store(settings, services.engine))


def make_server(wsgi: WSGIApp, *, host: str, port: int, threads: int) -> Any:
    """A waitress server as deployed. Waitress itself answers 413 to a declared body over
    :data:`~bot.gate.MAX_BODY` before buffering it, and refuses headers far beyond Slack's
    few hundred bytes."""
    from waitress import create_server

    return create_server(wsgi, host=host, port=port, threads=threads, channel_timeout=30,
                         ident="voicebot", max_request_body_size=MAX_BODY,
                         max_request_header_size=MAX_HEADERS)


@contextmanager
def serving(settings: Settings, services: Services, *, threads: int,
            host: str = "127.0.0.1") -> Iterator[tuple[Any, Started]]:
    """:func:`start` the app on ``services`` and serve it in this process, on
    :func:`make_server` at an ephemeral port in a daemon thread (the end-to-end tests and the
    HTTP benchmarks); yields ``(server, started)``. On exit the app's threads and the server
    stop; ``services`` stay open (the caller's)."""
    wsgi = BotWSGI()
    started = start(settings, wsgi, services)
    server = make_server(wsgi, host=host, port=0, threads=threads)

    def run() -> None:
        try:
            server.run()
        except OSError:  # the socket closes under select() at shutdown
            pass

    threading.Thread(target=run, name="voicebot-http", daemon=True).start()
    try:
        yield server, started
    finally:
        started.stop()
        server.close()


def serve(settings: Settings, *, port: int, host: str = "0.0.0.0",
          identity: BotIdentity | None = None) -> int:
    """Run until stopped. ``identity``: what :func:`~bot.slack.startup.check_tokens` said
    (``voicebot serve`` checks the tokens before loading anything heavy)."""
    limit_arenas(2)  # before any thread starts: less memory stranded per arena (bot/heap.py)
    limit_blas(1)  # one BLAS thread per call, as ONNX Runtime (bot/blas.py)
    wsgi = BotWSGI()
    server = make_server(wsgi, host=host, port=port, threads=max(8, settings.listener_workers))
    effective = server.effective_port
    mode = (f"Socket Mode (health checks on port {effective}, GET /healthz)"
            if settings.socket_mode else f"HTTP on port {effective} (POST /slack/events)")
    log.info(f"voicebot {__version__}: {mode}",
             extra={"mode": "socket" if settings.socket_mode else "http", "host": host,
                    "port": effective})
    log.info(f"database {db.display_url(settings.database_url)}")
    failure: list[str] = []

    def boot() -> None:
        try:
            started = start(settings, wsgi, identity=identity)
            if settings.socket_mode:
                started.stoppers.append(open_socket_mode(settings, started.app).close)
            log.info("ready", extra={"quotes": started.quotes})
        except SlackStartError as exc:
            log.error(str(exc))
            failure.append(str(exc))
            server.close()
        except BaseException as exc:  # noqa: BLE001 - reported, then the server stops
            log.exception("start-up failed")
            failure.append(repr(exc))
            server.close()

    threading.Thread(target=boot, name="voicebot-boot", daemon=True).start()
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass
    return 1 if failure else 0
