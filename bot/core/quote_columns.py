"""The columns of a quote in a file, written once for ``voicebot export`` and read back by
``voicebot import``, so an export imported into another database gives the same quotes.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are written with a leading ``'`` (the OWASP advice
against CSV injection); importing a CSV removes that one ``'`` again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from bot.core.import_dates import parse_date
from store.queries.quotes import QuoteView

#: What a hand-made file usually has.
BASIC = ("text", "speaker", "company", "segment", "source", "said_at", "url", "tags")
#: What an export adds: where a quote came from and who may see it, kept on import.
ORIGIN = ("key", "speaker_user_id", "speaker_team_id", "channel_id", "message_ts",
          "thread_ts", "private", "shareable", "first_hand", "relayed_by", "excerpt",
          "captured_by", "captured_at", "transcript_key", "start_seconds", "char_start",
          "char_end")
#: ``id``: a row's stable id in its file (a corrected row with new words updates its quote).
KNOWN_COLUMNS = (*BASIC, "id", *ORIGIN)
EXPORT_COLUMNS = (*BASIC, *ORIGIN)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def guard_cell(value: str) -> str:
    """A CSV cell no spreadsheet runs as a formula (see :func:`unguard_cell`)."""
    return "'" + value if value.lstrip("'").startswith(FORMULA_START) else value


def unguard_cell(value: str) -> str:
    """The value :func:`guard_cell` was given."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_START):
        return value[1:]
    return value


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat()


def record(quote: QuoteView, key: str) -> dict[str, object]:
    """A stored quote as an export row (JSON types; ``key`` only when it is not derived from
    the words and attribution, which an import computes again)."""
    return {
        "text": quote.text, "speaker": quote.speaker_name, "company": quote.company,
        "segment": quote.segment, "source": quote.source_kind, "said_at": _iso(quote.said_at),
        "url": quote.source_url, "tags": list(quote.tags),
        "key": None if key.startswith("sha256:") else key,
        "speaker_user_id": quote.speaker_user_id, "speaker_team_id": quote.speaker_team_id,
        "channel_id": quote.channel_id, "message_ts": quote.message_ts,
        "thread_ts": quote.thread_ts, "private": quote.is_private,
        "shareable": quote.shareable, "first_hand": quote.first_hand,
        "relayed_by": quote.relayed_by, "excerpt": quote.is_excerpt,
        "captured_by": quote.captured_by, "captured_at": _iso(quote.captured_at),
        "transcript_key": quote.transcript_key, "start_seconds": quote.start_seconds,
        "char_start": quote.char_start, "char_end": quote.char_end,
    }


def csv_cells(row: Mapping[str, object]) -> list[str]:
    """An export row as guarded CSV cells (tags as a JSON list: a tag may hold a comma)."""
    cells = []
    for column in EXPORT_COLUMNS:
        value = row[column]
        if column == "tags":
            text = json.dumps(value, ensure_ascii=False) if value else ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = ""
        else:
            text = repr(value) if isinstance(value, float) else str(value)
        cells.append(guard_cell(text))
    return cells


def _text(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _bool(name: str, value: object) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    s = str(value).strip().lower()
    if not s:
        return None
    if s not in _BOOLS:
        raise ValueError(f"`{name}` must be true or false, not {value!r}")
    return _BOOLS[s]


def _number(name: str, value: object, kind: type[int] | type[float]) -> int | float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return kind(str(value).strip()) if not isinstance(value, (int, float)) else kind(value)
    except ValueError:
        raise ValueError(f"`{name}` must be a number, not {value!r}") from None


def origin_fields(fields: Mapping[str, object], file_name: str) -> dict[str, Any]:
    """``NewQuote`` keyword arguments from the :data:`ORIGIN` columns and ``id``;
    ``ValueError`` saying which value is wrong."""
    out: dict[str, Any] = {}
    for name in ("speaker_user_id", "speaker_team_id", "channel_id", "message_ts",
                 "thread_ts", "relayed_by", "captured_by", "transcript_key"):
        if (value := _text(fields.get(name))) is not None:
            out[name] = value
    for name, attr in (("private", "is_private"), ("shareable", "shareable"),
                       ("first_hand", "first_hand"), ("excerpt", "is_excerpt")):
        flag = _bool(name, fields.get(name))
        if flag is not None:
            out[attr] = flag
    for name, kind in (("start_seconds", float), ("char_start", int), ("char_end", int)):
        number = _number(name, fields.get(name), kind)
        if number is not None:
            out[name] = number
    if (captured := _text(fields.get("captured_at"))) is not None:
        when = parse_date(captured, None)
        if when is None:
            raise ValueError(f"`captured_at` {captured!r} is not an ISO 8601 time")
        out["captured_at"] = when
    if (key := _text(fields.get("key"))) is not None:
        out["passage_key"] = key
    elif (row_id := _text(fields.get("id"))) is not None:
        identity = json.dumps([file_name, row_id], ensure_ascii=False)
        out["passage_key"] = "row:" + hashlib.sha256(identity.encode()).hexdigest()[:48]
    return out


def tags_cell(value: str) -> list[str] | None:
    """A tags cell written as a JSON list (as exports write it), else None."""
    if not value.startswith("["):
        return None
    try:
        tags = json.loads(value)
    except json.JSONDecodeError:
        return None
    return [str(t) for t in tags] if isinstance(tags, list) else None
