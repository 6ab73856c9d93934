"""Fixes for slack-bolt behaviour voicebot depends on, each checked against the installed
version so an upgrade that fixes (or changes) it is noticed by the tests."""

from __future__ import annotations

from typing import Any


def fix_form_parsing() -> None:
    """slack-bolt (<= 1.30) parses any form body containing the letters "payload" as an
    interactivity payload, so `/voice webhook payload` (or a channel named "payload-team")
    reached no listener. Parse such bodies as plain forms unless a ``payload`` field exists.
    Found by tests/test_properties.py."""
    import json
    from urllib.parse import parse_qsl

    import slack_bolt.request.request as bolt_request

    if getattr(bolt_request.parse_body, "voicebot_fixed", False):
        return
    original = bolt_request.parse_body

    def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
        if body and "payload" in body and not body.startswith("{") \
                and content_type != "application/json":
            params = dict(parse_qsl(body, keep_blank_values=True))
            return json.loads(params["payload"]) if "payload" in params else params
        return original(body, content_type)

    parse_body.__dict__["voicebot_fixed"] = True  # the mark checked above
    bolt_request.parse_body = parse_body


class _TokenUnusedWarning:
    """Drops slack-bolt's "As you gave `client` as well, `token` will be unused": App reads
    SLACK_BOT_TOKEN from the environment by itself, and voicebot hands it a client already
    built with that token, so the warning is about nothing."""

    PREFIX = "As you gave `client` as well"

    def filter(self, record: Any) -> bool:
        return not str(record.msg).startswith(self.PREFIX)


def quiet_token_warning() -> None:
    """Attach :class:`_TokenUnusedWarning` to the logger slack-bolt's App warns on."""
    import logging

    logger = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _TokenUnusedWarning) for f in logger.filters):
        logger.addFilter(_TokenUnusedWarning())
