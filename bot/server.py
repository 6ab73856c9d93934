"""Serving: HTTP (waitress, a production WSGI server) or Socket Mode, plus /healthz."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.config import Settings

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class ReplayGuard:
    """Refuse a signed request seen before (same timestamp and signature) within Slack's
    5-minute window. Slack's own retries carry ``X-Slack-Retry-Num`` and are let through:
    handlers are idempotent for them."""

    def __init__(self, window: float = 330.0) -> None:
        self.window = window
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, environ: dict) -> bool:
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        if not signature or environ.get("HTTP_X_SLACK_RETRY_NUM"):
            return True
        key = f"{environ.get('HTTP_X_SLACK_REQUEST_TIMESTAMP')}:{signature}"
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 50_000:
                self._seen = {k: t for k, t in self._seen.items() if now - t < self.window}
            seen = self._seen.get(key)
            if seen is not None and now - seen < self.window:
                return False
            self._seen[key] = now
            return True


class BotWSGI:
    """``POST /slack/events`` to Bolt, ``GET /healthz`` answers 200 only once ready."""

    def __init__(self) -> None:
        self.handler: WSGIApp | None = None
        self.status = "starting"
        self.replays = ReplayGuard()

    def ready(self, handler: WSGIApp) -> None:
        self.handler, self.status = handler, "ready"

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            code = "200 OK" if self.handler else "503 Service Unavailable"
            body = self.status.encode()
            start_response(code, [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("REQUEST_METHOD") == "POST" and not self.replays.first_time(environ):
            log.warning("replayed request refused", extra={"path": path})
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"replayed request"]
        if self.handler is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"),
                                                       ("Retry-After", "5")])
            return [b"voicebot is starting"]
        return self._guarded(environ, start_response)

    def _guarded(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Bolt raises on bodies it cannot parse; answer 400 instead of a 500."""
        assert self.handler is not None
        try:
            return self.handler(environ, start_response)
        except (ValueError, AttributeError, TypeError, KeyError, IndexError) as exc:  # bad body
            log.warning("malformed request refused", extra={"error": str(exc)[:200]})
            body = b"malformed request"
            start_response("400 Bad Request", [("Content-Type", "text/plain"),
                                               ("Content-Length", str(len(body)))])
            return [body]


def bolt_wsgi(app) -> WSGIApp:  # type: ignore[no-untyped-def]
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    return SlackRequestHandler(app)


@dataclass
class Started:
    """A running bot: the Bolt app and the background threads to stop on shutdown."""

    app: object
    stoppers: list[Callable[[], None]]

    def stop(self) -> None:
        for stop in self.stoppers:
            stop()


def start(settings: Settings, wsgi: BotWSGI, services=None) -> Started:  # type: ignore[no-untyped-def]
    """Load the model and indexes, warm them, build the app and mark ``wsgi`` ready."""
    from bot.container import build_services
    from bot.periodic import Periodic
    from bot.slack.app import create_app, make_client, make_delivery

    services = services or build_services(settings)
    services.encoder.warm_up()  # the first capture should not pay for set-up
    team_id = enterprise_id = None
    if settings.slack_bot_token and not settings.slack_client_id:
        auth = make_client(settings, settings.slack_bot_token).auth_test()
        team_id, enterprise_id = auth["team_id"], auth.get("enterprise_id") or None
        services.workspaces.ensure(team_id, auth.get("team"))
        log.info("connected to Slack", extra={"team": team_id, "bot": auth["user_id"]})
    app = create_app(settings, services, team_id=team_id, enterprise_id=enterprise_id)
    # each replica polls for others' changes; digests are posted now, then every interval
    threads = [Periodic("index sync", services.sync.poll, settings.sync_seconds)]
    if settings.digest_scheduler:
        delivery = make_delivery(settings, services, _client_for(settings, services, app))
        threads.append(Periodic("digest", delivery.run_due, settings.digest_interval,
                                eager=True))
    for thread in threads:
        thread.start()
    wsgi.ready(bolt_wsgi(app))
    log.info("ready", extra={"quotes": services.indexes.total()})
    return Started(app=app, stoppers=[t.stop for t in threads])


def _client_for(settings: Settings, services, app):  # type: ignore[no-untyped-def]
    """Web API client per team: the single bot token, or the team's installed bot token."""
    if not settings.slack_client_id:
        return lambda _team: app.client
    from bot.slack.app import make_client
    from bot.slack.installations import installation_store

    store = installation_store(settings, services.engine)

    def client_for(team_id: str):  # type: ignore[no-untyped-def]
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            raise LookupError(f"voicebot is not installed in {team_id}")
        return make_client(settings, bot.bot_token)

    return client_for


def serve(settings: Settings, *, port: int, host: str = "0.0.0.0") -> int:
    from waitress import create_server

    wsgi = BotWSGI()
    server = create_server(wsgi, host=host, port=port, threads=max(8, settings.listener_workers),
                           channel_timeout=30, ident="voicebot")
    log.info("listening", extra={"host": host, "port": server.effective_port,
                                 "mode": "socket" if settings.socket_mode else "http"})
    failure: list[BaseException] = []

    def boot() -> None:
        try:
            app = start(settings, wsgi).app
            if settings.socket_mode:
                from slack_bolt.adapter.socket_mode import SocketModeHandler

                from bot.slack.app import make_client

                SocketModeHandler(app, settings.slack_app_token,
                                  web_client=make_client(settings, settings.slack_app_token),
                                  concurrency=settings.listener_workers).connect()
        except BaseException as exc:  # noqa: BLE001 - reported, then the server stops
            log.exception("start-up failed")
            failure.append(exc)
            server.close()

    threading.Thread(target=boot, name="voicebot-boot", daemon=True).start()
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass
    return 1 if failure else 0
