"""Talking to Slack at start: check the tokens, open the Socket Mode connection.

A failure becomes :class:`SlackStartError`, one line naming the call that failed and what
to check (network, ``SLACK_API_URL``, the token), which ``voicebot serve`` prints before
exiting non-zero.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)

SLACK_API = "https://slack.com/api/"
CHECK_TIMEOUT = 10  # seconds per call; a check is not retried
TOKEN_HINTS = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...) under OAuth & Permissions",
    "SLACK_APP_TOKEN": "an app-level token (xapp-...) with connections:write under "
                       "Basic Information > App-Level Tokens",
}


class SlackStartError(RuntimeError):
    """Slack could not be reached, or refused a token, while starting."""


@dataclass(frozen=True)
class BotIdentity:
    """What ``auth.test`` said about SLACK_BOT_TOKEN."""

    team_id: str
    team_name: str | None
    enterprise_id: str | None
    bot_user_id: str


def explain(call: str, variable: str, settings: Settings, exc: BaseException) -> str:
    """One line: which call failed, why, and what to check."""
    from slack_sdk.errors import SlackApiError

    where = settings.web_api_base_url or SLACK_API
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if hasattr(exc.response, "get") else None
        if error in {"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                     "token_expired", "not_allowed_token_type", "missing_scope"}:
            return (f"Slack refused {call} with {variable}: {error}. Check {variable}: it "
                    f"should be {TOKEN_HINTS[variable]} of the app, installed in the "
                    f"workspace.")
        status = getattr(exc.response, "status_code", "?")
        return (f"Slack answered {call} at {where} with an error (HTTP {status}, "
                f"{error or 'no error code'}). Check SLACK_API_URL (unset it for Slack's "
                f"own) and {variable}.")
    reason = getattr(exc, "reason", None) or exc
    return (f"cannot reach Slack at {where} ({call}): {reason}. Check the network (proxy, "
            f"firewall) and SLACK_API_URL (unset it for Slack's own).")


def _client(settings: Settings, token: str) -> Any:
    from slack_sdk import WebClient

    kwargs: dict[str, Any] = (
        {"base_url": settings.web_api_base_url} if settings.web_api_base_url else {})
    quiet = logging.getLogger(f"{__name__}.check")  # the failure is reported in one line
    quiet.setLevel(logging.CRITICAL)
    return WebClient(token=token, timeout=CHECK_TIMEOUT, retry_handlers=[], logger=quiet,
                     **kwargs)  # no retries: fail fast


def _call(settings: Settings, variable: str, call: str, token: str, **params: Any) -> Any:
    from slack_sdk.errors import SlackApiError

    client = _client(settings, token)
    try:
        return client.api_call(call, params=params or None)
    except (SlackApiError, OSError, ValueError) as exc:  # URLError and timeouts are OSErrors
        raise SlackStartError(explain(call, variable, settings, exc)) from None


def check_bot_token(settings: Settings) -> BotIdentity:
    """``auth.test`` with SLACK_BOT_TOKEN: the workspace and bot it belongs to."""
    assert settings.slack_bot_token
    auth = _call(settings, "SLACK_BOT_TOKEN", "auth.test", settings.slack_bot_token)
    return BotIdentity(team_id=auth["team_id"], team_name=auth.get("team"),
                       enterprise_id=auth.get("enterprise_id") or None,
                       bot_user_id=auth["user_id"])


def check_app_token(settings: Settings) -> None:
    """``apps.connections.open`` with SLACK_APP_TOKEN (the URL it issues goes unused)."""
    assert settings.slack_app_token
    _call(settings, "SLACK_APP_TOKEN", "apps.connections.open", settings.slack_app_token)


def check_tokens(settings: Settings) -> BotIdentity | None:
    """Check every token ``serve`` will use, before the model loads; the bot's identity
    when a single SLACK_BOT_TOKEN is used (OAuth installs have one per workspace)."""
    identity = None
    if settings.slack_bot_token and not settings.slack_client_id:
        identity = check_bot_token(settings)
    if settings.socket_mode:
        check_app_token(settings)
    return identity


def _acking_handler() -> type[SocketModeHandler]:
    """slack-bolt's Socket Mode handler, except that a request voicebot refuses (4xx:
    another workspace, a payload it cannot read) is still acknowledged: slack-bolt sends
    no acknowledgement unless Bolt answered 200, so Slack would deliver a refused envelope
    again and again. A 5xx (something failed that may work next time) stays unacknowledged,
    so Slack's redelivery can run it, as in HTTP mode."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
    from slack_sdk.socket_mode.response import SocketModeResponse

    class AckingSocketModeHandler(SocketModeHandler):
        def handle(self, client: Any, req: Any) -> None:
            import time

            start = time.time()
            response = run_bolt_app(self.app, req)
            if 400 <= response.status < 500:
                log.info("Socket Mode request refused and acknowledged",
                         extra={"status": response.status, "type": req.type})
                client.send_socket_mode_response(SocketModeResponse(
                    envelope_id=req.envelope_id))
                return
            send_response(client, req, response, start)

    return AckingSocketModeHandler


def open_socket_mode(settings: Settings, app: App) -> SocketModeHandler:
    """Connect ``app`` to Slack over Socket Mode (slack-sdk's built-in WebSocket client,
    which reconnects by itself when Slack drops or refreshes the connection)."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import make_client

    assert settings.slack_app_token
    handler = _acking_handler()(app, settings.slack_app_token,
                                web_client=make_client(settings, settings.slack_app_token),
                                concurrency=settings.listener_workers)
    try:
        handler.connect()
    except (SlackApiError, OSError) as exc:
        raise SlackStartError(explain("apps.connections.open", "SLACK_APP_TOKEN", settings,
                                      exc)) from None
    return handler
