"""The Bolt app: Web API clients, OAuth or single-workspace authorisation, listeners.

:func:`create_app` wires the listeners to the :class:`~bot.container.Services` built by
:func:`bot.container.build_services`; nothing here builds use cases of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.container import Services
from bot.slack.bounded import BoundedPool

if TYPE_CHECKING:
    from slack_bolt import App, BoltRequest, BoltResponse
    from slack_sdk import WebClient

    from bot.slack.digest_delivery import DigestDelivery

log = logging.getLogger(__name__)


def make_client(settings: Settings, token: str | None = None) -> WebClient:
    """A Web API client that honours SLACK_API_URL and retries 429s, 5xx and resets."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    kwargs: dict[str, Any] = (
        {"base_url": settings.web_api_base_url} if settings.web_api_base_url else {})
    return WebClient(token=token, timeout=10, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(
            max_retry_count=3), ServerErrorRetryHandler(max_retry_count=2)], **kwargs)


BOT_SCOPES = ("app_mentions:read", "channels:history", "channels:read", "chat:write",
              "chat:write.public", "commands", "groups:history", "groups:read", "im:history",
              "im:read", "mpim:history", "mpim:read", "reactions:read", "team:read", "users:read")


def create_app(settings: Settings, services: Services, *,
               search_pool: BoundedPool | None = None,
               team_id: str | None = None, enterprise_id: str | None = None) -> App:
    """The Bolt app, wired to ``services``. No globals: call it once per process (or test).

    With SLACK_CLIENT_ID set, workspaces install through OAuth (/slack/install) and tokens
    come from the installation store; otherwise the single SLACK_BOT_TOKEN is used and
    requests for any other workspace than ``team_id`` are refused.
    """
    from slack_bolt import App

    from bot.slack import listeners
    from bot.slack.bolt_compat import (
        ack_waiting_executor,
        fix_form_parsing,
        install_ack_signal,
        quiet_token_warning,
    )
    from bot.slack.listeners.runtime import Runtime

    fix_form_parsing()
    quiet_token_warning()
    oauth = None
    store = None
    authorize = None
    client = make_client(settings, None if settings.slack_client_id else
                         settings.slack_bot_token)
    if settings.slack_client_id:
        from slack_bolt.oauth.oauth_settings import OAuthSettings
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

        from bot.slack.installations import installation_store

        store = installation_store(settings, services.engine)  # tokens encrypted at rest
        oauth = OAuthSettings(
            client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
            scopes=list(BOT_SCOPES), installation_store=store,
            state_store=SQLAlchemyOAuthStateStore(600, services.engine),
            install_path="/slack/install", redirect_uri_path="/slack/oauth_redirect")
        # Built here so token rotation also goes through ``client`` (SLACK_API_URL, retries).
        from slack_bolt.authorization.authorize import InstallationStoreAuthorize

        authorize = InstallationStoreAuthorize(
            installation_store=store, client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret, client=client, logger=log)
    executor = ack_waiting_executor(settings.listener_workers, "voicebot-listener")
    app = App(
        signing_secret=settings.slack_signing_secret or "",
        client=client,
        oauth_settings=oauth,
        authorize=authorize,  # type: ignore[arg-type]  # hinted as a plain callable; App also takes an Authorize (isinstance branch)
        user_facing_authorize_error_message=(
            "voicebot is not installed in this workspace any more. A workspace admin can "
            "reinstall it" + ("; the quotes kept from before will be there again."
                              if settings.on_uninstall == "keep" else ".")),
        listener_executor=executor,
        token_verification_enabled=False,
        request_verification_enabled=not settings.socket_mode,
        name="voicebot",
    )
    if oauth is None and team_id:
        _guard_workspace(app, team_id, enterprise_id)
    install_ack_signal(app, executor)  # the request thread wakes when the listener acks

    @app.error
    def on_error(error: Exception, request: BoltRequest,
                 logger: logging.Logger) -> BoltResponse | None:
        """A payload Bolt cannot read gets 400 (not 500); a listener bug is logged with
        its request type, after Slack already got its ack."""
        from slack_bolt import BoltResponse

        if isinstance(error, (KeyError, IndexError, TypeError, AttributeError, ValueError)) \
                and not getattr(request.context, "ack_called", False):
            log.warning("malformed Slack payload refused",
                        extra={"error": f"{type(error).__name__}: {error}"[:200]})
            return BoltResponse(status=400, body="malformed payload")
        log.error("listener failed", exc_info=error)
        return None
    from bot.slack.answers import MAX_QUEUED_SEARCHES

    pool = search_pool or BoundedPool(settings.search_workers, MAX_QUEUED_SEARCHES,
                                      "voicebot-search")
    from bot.slack.responses import ResponsePoster

    runtime = Runtime(services=services, search_pool=pool, installation_store=store,
                      client_for=team_clients(settings, client, store),
                      responses=ResponsePoster(proxy=settings.proxy_url,
                                               no_proxy=settings.no_proxy))
    listeners.register(app, runtime)
    runtime.drain_in_background()  # captures deferred before a restart
    return app


def team_clients(settings: Settings, client: WebClient,
                  store: Any | None) -> Callable[[str], WebClient]:
    """The Web API client for a workspace: the single bot token's, or the team's installed
    bot token (OAuth)."""
    if store is None:
        return lambda _team: client

    def client_for(team_id: str) -> WebClient:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            raise LookupError(f"voicebot is not installed in {team_id}")
        return make_client(settings, bot.bot_token)

    return client_for


def _guard_workspace(app: App, team_id: str, enterprise_id: str | None = None) -> None:
    """Refuse requests for any workspace or organisation but the one SLACK_BOT_TOKEN belongs
    to. An enterprise-wide install flag does not get past it: with a single bot token,
    voicebot is installed in exactly one workspace."""
    from slack_bolt import BoltResponse
    from slack_bolt.middleware import Middleware

    class SameWorkspace(Middleware):
        def process(self, *, req: BoltRequest, resp: BoltResponse,
                    next: Callable[[], BoltResponse]) -> BoltResponse | None:
            seen = req.context.team_id
            seen_enterprise = req.context.enterprise_id
            if (req.context.is_enterprise_install or (seen and seen != team_id)
                    or (seen_enterprise and seen_enterprise != enterprise_id)
                    or (not seen and req.body.get("type") != "url_verification")):
                log.warning("request for another workspace refused",
                            extra={"team": str(seen)[:32],
                                   "enterprise": str(seen_enterprise)[:32],
                                   "installed": team_id})
                return BoltResponse(status=401,
                                    body="voicebot is not installed in that workspace")
            return next()

    app.use(SameWorkspace())


def make_delivery(settings: Settings, services: Services,
                  client_for: Callable[[str], WebClient] | None = None) -> DigestDelivery:
    """Digest delivery; single-workspace installs post with SLACK_BOT_TOKEN."""
    from bot.slack.digest_delivery import DigestDelivery

    if client_for is None:
        client = make_client(settings, settings.slack_bot_token)

        def client_for(_team_id: str) -> WebClient:
            return client

    return DigestDelivery(services.sessions, services.digests, services.workspaces,
                          client_for, mask=settings.mask_personal_data, clock=services.clock)
