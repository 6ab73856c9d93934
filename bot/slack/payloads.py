"""Every button value and ``private_metadata`` voicebot sends, and how it is read back.

Each payload is a small frozen dataclass with an ``encode()`` that builds the string Slack
carries and a ``decode()`` that reads it back, or returns None for anything it cannot be
(forged, stale, huge). Nothing else builds or parses these strings (tests/test_architecture.py
checks it).

What comes back from Slack says *which* thing a person means; it never says who may see or
change it, nor where to post: the listeners decide that again from the request's own user,
team and channel (DESIGN.md, "Trust rules for code").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite's larger range is never reached by real ids
MAX_OFFSET = 10_000  # far beyond any page a person can reach ("Show more" stops at 50)
MAX_VALUE = 2000  # Slack's limit for a button value
STALE_BUTTON = "That button is out of date; run `/voice` again or open the quote anew."


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 12:
            return int(text)
    return None


def parse_quote_id(value: object) -> int | None:
    """A quote id (``"42"`` or ``42``), or None when it cannot be one (1 .. 2**31-1)."""
    number = _whole_number(value)
    return number if number is not None and 1 <= number <= MAX_ID else None


def parse_offset(value: object) -> int | None:
    """A result offset (0 .. MAX_OFFSET), or None."""
    number = _whole_number(value)
    return number if number is not None and 0 <= number <= MAX_OFFSET else None


def _json_object(value: object) -> dict[str, Any] | None:
    if not isinstance(value, str) or not value.startswith("{") or len(value) > 4 * MAX_VALUE:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


@dataclass(frozen=True)
class QuoteButton:
    """The value of every button about one quote: Edit details, Delete, Keep as saved, Show
    full quote, Share. Just the id."""

    quote_id: int

    def encode(self) -> str:
        return str(self.quote_id)

    @classmethod
    def decode(cls, value: object) -> QuoteButton | None:
        """Also reads the ``{"id": n}`` form older Share buttons carried."""
        fields = _json_object(value)
        quote_id = parse_quote_id(fields.get("id") if fields is not None else value)
        return cls(quote_id) if quote_id is not None else None


@dataclass(frozen=True)
class MorePage:
    """"Show more results": the search as typed and where the next page starts."""

    query: str
    offset: int

    def encode(self) -> str:
        return json.dumps({"query": self.query, "offset": self.offset}, ensure_ascii=False)

    def fits(self) -> bool:
        return len(self.encode()) <= MAX_VALUE

    @classmethod
    def decode(cls, value: object) -> MorePage | None:
        """Also reads the ``{"q": ..., "o": ...}`` form of older buttons. A negative or
        absurd offset is None here; the listener bounds it further."""
        fields = _json_object(value)
        if fields is None:
            return None
        query = fields.get("query", fields.get("q"))
        raw = fields.get("offset", fields.get("o"))
        offset = parse_offset(raw) if isinstance(raw, int) else None  # we only send numbers
        if not isinstance(query, str) or offset is None:
            return None
        return cls(query, offset)


@dataclass(frozen=True)
class CaptureForm:
    """The "Save as user voice" form: which message it is about. The message's words wait on
    the server (``pending_captures``), never in the form."""

    channel_id: str
    message_ts: str
    thread_ts: str | None = None
    author_id: str | None = None  # the message's author (a Slack user), if any
    bot_name: str | None = None  # or the integration that posted it

    def encode(self) -> str:
        return json.dumps({"channel": self.channel_id, "ts": self.message_ts,
                           "thread_ts": self.thread_ts, "author": self.author_id,
                           "bot": (self.bot_name or "")[:200] or None}, ensure_ascii=False)

    @classmethod
    def decode(cls, value: object) -> CaptureForm | None:
        """Also reads the ``c``/``th``/``a`` keys of forms opened before an upgrade."""
        fields = _json_object(value)
        if fields is None:
            return None
        channel = fields.get("channel", fields.get("c"))
        ts = fields.get("ts")
        thread = fields.get("thread_ts", fields.get("th"))
        author = fields.get("author", fields.get("a"))
        bot = fields.get("bot")
        if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts):
            return None
        return cls(channel, ts, thread if isinstance(thread, str) else None,
                   author if isinstance(author, str) else None,
                   bot if isinstance(bot, str) else None)


@dataclass(frozen=True)
class EditForm:
    """The "Edit user voice" form: which quote it edits."""

    quote_id: int

    def encode(self) -> str:
        return json.dumps({"quote_id": self.quote_id})

    @classmethod
    def decode(cls, value: object) -> EditForm | None:
        fields = _json_object(value)
        if fields is None:
            return None
        quote_id = parse_quote_id(fields.get("quote_id", fields.get("id")))
        return cls(quote_id) if quote_id is not None else None


#: The settings form and its button carry nothing: the workspace is the request's own.
SETTINGS_FORM = ""
SETTINGS_BUTTON = "settings"


@dataclass(frozen=True)
class OfferButton:
    """The buttons on an offer of evidence (show, share in thread, not helpful): the offer's
    id. Who may use it and where it posts come from the stored offer and the request."""

    offer_id: int

    def encode(self) -> str:
        return f"offer:{self.offer_id}"

    @classmethod
    def decode(cls, value: object) -> OfferButton | None:
        if not isinstance(value, str) or not value.startswith("offer:"):
            return None
        offer_id = parse_quote_id(value[len("offer:"):])
        return cls(offer_id) if offer_id is not None else None
