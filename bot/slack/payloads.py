"""Read ids and offsets that came back from Slack in button values.

A button value says *which* quote a person means; it is never trusted beyond that. Values
that are not a plausible id (text, negative, or beyond the database's integer range, such as
``99999999999999999999``) are refused here, before they reach SQL: SQLite raises
OverflowError on them and PostgreSQL a DataError, which used to surface as an unhandled
request after the ack.
"""

from __future__ import annotations

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite's larger range is never reached by real ids
MAX_OFFSET = 10_000  # "Show more" pages of 5: far beyond any real result list
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
    """The quote id in a button value (``"42"`` or ``42``), or None when it cannot be one
    (accepted: 1 .. 2**31-1)."""
    number = _whole_number(value)
    return number if number is not None and 1 <= number <= MAX_ID else None


def parse_offset(value: object) -> int | None:
    """A result offset (0 .. MAX_OFFSET) from a button value, or None."""
    number = _whole_number(value)
    return number if number is not None and 0 <= number <= MAX_OFFSET else None
