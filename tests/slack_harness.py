"""The bot served over real HTTP exactly as in production, against the fake Slack Web API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.config import Settings
from bot.container import Services, build_services
from bot.server import serving
from store.retrieval.embeddings import HashingEmbedder
from tests.fakes import signing
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack

SECRET = "e2e-signing-secret-0123456789"
TOKEN = "xoxb-test-token"
SECRET_KEY = "dm9pY2Vib3QtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="  # Fernet: 32 bytes, base64


@dataclass
class Bot:
    """A running bot: ``url`` takes signed requests; ``slack`` is the fake Web API."""

    url: str
    slack: FakeSlack
    services: Services
    settings: Settings
    server: Any = field(repr=False)
    app: Any = field(default=None, repr=False)  # the Bolt app (Socket Mode tests dispatch)

    def send(self, body_and_type: tuple[str, str], **kw: Any) -> signing.Response:
        body, content_type = body_and_type
        return signing.post(self.url + "/slack/events", body, content_type,
                            kw.pop("secret", SECRET), **kw)

    def command(self, text: str, *, secret: str = SECRET, timestamp: int | None = None,
                **kw: Any) -> tuple[signing.Response, str]:
        hook = self.slack.new_response_url()
        body = signing.slash_command(text, response_url=hook, **kw)
        return self.send(body, secret=secret, timestamp=timestamp), hook

    def event(self, event: dict, **kw: Any) -> signing.Response:
        return self.send(signing.event_callback(event, **kw))

    def responses(self, url: str, count: int = 1, timeout: float = 15) -> list[dict]:
        """The posts to one response_url, once ``count`` of them arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c.params for c in self.slack.calls_to("response_url")
                     if c.params["_url"] == url]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


def assert_valid_message(params: dict) -> None:
    """What Slack would accept: blocks parse with slack_sdk.models, <= 50, text fallback."""
    blocks = params.get("blocks") or []
    assert params.get("text"), "every message needs fallback text"
    assert len(blocks) <= 50
    for b in blocks:
        parsed = Block.parse(b)
        assert parsed is not None
        parsed.validate_json()


def assert_valid_view(view: dict) -> None:
    assert len(view.get("blocks", [])) <= 100
    View(**view).validate_json()


@contextmanager
def serve_bot(tmp_path, slack: FakeSlack, **overrides: Any) -> Iterator[Bot]:  # type: ignore[no-untyped-def]
    """Build services on a SQLite file and serve the app over HTTP, as production does."""
    values: dict[str, Any] = dict(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}", slack_bot_token=TOKEN,
        slack_signing_secret=SECRET, slack_api_url=slack.base_url, listener_workers=32,
        digest_scheduler=False, secret_keys=(SECRET_KEY,))
    clock = overrides.pop("clock", None) or FakeClock()
    values.update(overrides)
    settings = Settings(**values)
    services = build_services(settings, embedder=HashingEmbedder(), clock=clock)
    try:
        with serving(settings, services, threads=24) as (server, started):
            yield Bot(url=f"http://127.0.0.1:{server.effective_port}", slack=slack,
                      services=services, settings=settings, server=server, app=started.app)
            assert_everything_sent_is_valid(slack)
    finally:
        services.close()


@pytest.fixture
def bot(tmp_path) -> Iterator[Bot]:  # type: ignore[no-untyped-def]
    with FakeSlack() as slack:
        slack.add_user("U1", "Ana Teammate")
        slack.add_user("U2", "Bo Teammate")
        slack.add_user("UADM", "Ada Admin", is_admin=True)
        slack.add_user("UCUST", "Casey Customer", team_id="T0001")
        slack.add_channel("C1", "general")
        slack.add_channel("CPRIV", "secret-deals", is_private=True)
        slack.add_channel("CPROD", "product")
        with serve_bot(tmp_path, slack) as running:
            yield running


MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"}
VIEW_METHODS = {"views.open", "views.publish", "views.update", "views.push"}


def assert_everything_sent_is_valid(slack: FakeSlack) -> None:
    """Every message and view the bot sent in a test passes slack_sdk.models validation."""
    for call in slack.calls:
        if call.method in MESSAGE_METHODS and ("blocks" in call.params or
                                               "text" in call.params):
            assert_valid_message(call.params)
        elif call.method in VIEW_METHODS:
            assert_valid_view(call.params["view"])
