"""What an HTTP request must prove before anything is stored or logged about it.

Order of checks, cheapest first, so an unsigned flood costs neither memory nor log:
header shapes (no reading), timestamp window, declared size, then the body is read (at
most ``max_body + 1`` bytes) and its HMAC compared in constant time. Only then is the
request recorded (a receipt for its signature, in the database every replica shares) and
handed to Bolt with the body already read. A refusal is one short log line: reason, path,
size; never a header value or the body.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.slack.bolt_compat import request_body
from bot.slack.dedupe import Receipts, delivery_key

log = logging.getLogger(__name__)

#: Slack's largest request bodies are interactivity payloads: a view_submission carries the
#: whole modal (up to 100 blocks, each text up to 3,000 characters, plus every input's
#: state) and a block action carries the message (50 blocks); URL-encoded, that stays well
#: under 1 MiB. Anything larger is not from Slack.
MAX_BODY = 1024 * 1024
#: Slack's signature is ``v0=`` and a hex HMAC-SHA256; the timestamp is Unix seconds.
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
TIMESTAMP = re.compile(r"[0-9]{1,12}")
#: Slack's replay window: requests signed longer ago than this are refused.
WINDOW = 300


@dataclass(frozen=True)
class Refusal:
    """An answer given instead of running the request."""

    status: str
    reason: str
    text: bytes


def refusal(status: str, reason: str, text: str) -> Refusal:
    return Refusal(status, reason, text.encode())


TOO_LARGE = refusal("413 Payload Too Large", "body too large", "request too large")
NOT_SIGNED = refusal("401 Unauthorized", "missing or malformed signature headers",
                     "invalid request")
STALE = refusal("401 Unauthorized", "timestamp outside the 5-minute window", "invalid request")
BAD_SIGNATURE = refusal("401 Unauthorized", "signature mismatch", "invalid request")
REPLAYED = refusal("401 Unauthorized", "replayed request", "replayed request")
#: A delivery already run, resent as a retry (the same bytes, or newly signed with the same
#: event id or trigger): acknowledged, not run.
REPEATED = refusal("200 OK", "repeated delivery acknowledged", "")


class RequestGate:
    """Verifies a POST's size, timestamp and signature, then records its signature once."""

    def __init__(self, signing_secret: str, receipts: Receipts | None = None, *,
                 max_body: int = MAX_BODY, now: Callable[[], float] = time.time) -> None:
        if not signing_secret:
            raise ValueError("HTTP mode needs the signing secret")
        self._secret = signing_secret.encode()
        self.receipts = receipts
        self.max_body = max_body
        self.now = now  # wall clock: Slack signs with real time, not the app's clock

    def admit(self, environ: dict) -> Refusal | None:
        """None when the request may run; ``environ`` then carries the body already read
        (``wsgi.input`` is a BytesIO) and, under ``voicebot.receipt``, its signature key."""
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        if not (len(signature) == 67 and SIGNATURE.fullmatch(signature)
                and len(timestamp) <= 12 and TIMESTAMP.fullmatch(timestamp)):
            return NOT_SIGNED
        if abs(self.now() - int(timestamp)) > WINDOW:
            return STALE
        declared = content_length(environ)
        if declared is not None and declared > self.max_body:
            return TOO_LARGE
        body = environ["wsgi.input"].read(self.max_body + 1 if declared is None else declared)
        if len(body) > self.max_body:
            return TOO_LARGE
        expected = "v0=" + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body,
                                    hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return BAD_SIGNATURE
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if self.receipts is None:
            return None
        key = "signature:" + signature[3:]  # the HMAC covers timestamp and body
        # The delivery's own receipt (bot/slack/dedupe.py) is claimed in the same
        # transaction; the middleware then only confirms it.
        delivery = delivery_key(request_body(body, environ.get("CONTENT_TYPE")))
        self.receipts.hand_over(None)
        won, delivered = self.receipts.claim_request(key, delivery)
        if not won:
            return REPEATED if environ.get("HTTP_X_SLACK_RETRY_NUM") else REPLAYED
        environ["voicebot.receipt"] = key
        if delivered is False:  # newly signed, already run: a retry of a delivery
            return REPEATED
        self.receipts.hand_over(delivery if delivered else None)
        return None


def content_length(environ: dict) -> int | None:
    """The declared body size, or None when absent or not a number."""
    value = environ.get("CONTENT_LENGTH") or ""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 15 else None


def log_refusal(reason: Refusal, environ: dict, *, level: int = logging.WARNING) -> None:
    """One short line: why, where, how big. No header values, no body."""
    log.log(level, "request refused" if not reason.status.startswith("200") else reason.reason,
            extra={"reason": reason.reason, "status": int(reason.status[:3]),
                   "path": str(environ.get("PATH_INFO", ""))[:64],
                   "size": content_length(environ)})


class QuietBoltLogs(logging.Filter):
    """Cut request details (bodies, signatures, payload excerpts) out of slack-bolt's log
    lines: it logs them in "Unhandled request ({...})", "Invalid request signature detected
    (signature: ..., body: ...)" and "A global middleware (...) ... ({body})"."""

    LIMIT = 200

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cut = min((i for i in (message.find("("), message.find("{"), message.find("\n"))
                   if i >= 0), default=-1)
        if cut >= 0 or len(message) > self.LIMIT:
            record.msg = message[:cut if cut >= 0 else self.LIMIT].rstrip() + \
                " [request details omitted]"
            record.args = ()
        return True


def quiet_bolt_logs() -> None:
    """Attach :class:`QuietBoltLogs` to every slack-bolt logger created so far (Bolt makes
    them when the app and its middleware are built; call this after building the app)."""
    names = [n for n in logging.root.manager.loggerDict if n.startswith("slack_bolt")]
    for name in ["slack_bolt", *names]:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietBoltLogs) for f in logger.filters):
            logger.addFilter(QuietBoltLogs())
