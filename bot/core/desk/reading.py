"""Reading a support-desk export file: JSON (one API response, or a list of them) or JSON
Lines (one object per line, as bulk exports write), which vendor wrote it, and typed access
to its fields that names the place of anything malformed.

Every error names the file and where: the line (JSON Lines, or a JSON syntax error), the
JSON path (``$.tickets[2].comments[0].created_at``) and the ticket or conversation it
belongs to. The whole file is read before anything is stored, so a malformed file adds
nothing and loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

FORMATS = ("zendesk", "intercom", "helpscout")
SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})


class DeskExportError(ValueError):
    """The export cannot be read; the message names the file and where."""


@dataclass(frozen=True)
class Doc:
    """One JSON value of the file: the whole file, or one line of a JSON Lines file."""

    value: object
    line: int | None  # the line of a JSON Lines record; None for a whole-file JSON value


def load(path: str | Path, text: str) -> list[Doc]:
    """The file's JSON values: one for a JSON file, one per non-blank line for JSON Lines."""
    try:
        return [Doc(json.loads(text), None)]
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise DeskExportError(f"{path}: line {exc.lineno}, column {exc.colno}: not valid "
                                  f"JSON ({exc.msg}). Nothing was imported.") from None
    docs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            docs.append(Doc(json.loads(raw), number))
        except json.JSONDecodeError as exc:
            raise DeskExportError(f"{path}: line {number}, column {exc.colno}: not valid JSON "
                                  f"({exc.msg}); a JSON Lines export has one JSON object per "
                                  "line. Nothing was imported.") from None
    return docs


def records(path: str | Path, docs: list[Doc]) -> Iterator[tuple[Where, dict[str, object]]]:
    """Each JSON object of the file with its place; a JSON list (several API responses saved
    together) gives each of its items."""
    for doc in docs:
        where = Where(path, doc.line)
        if isinstance(doc.value, list):
            for i, item in enumerate(doc.value):
                yield where.key(i), obj(item, where.key(i))
        else:
            yield where, obj(doc.value, where)


def detect(docs: list[Doc]) -> str | None:
    """zendesk, intercom or helpscout from the shape of the first object that tells, or None
    (then the file is not a support-desk export)."""
    for doc in docs:
        for o in _objects(doc.value, depth=3):
            if "conversation_parts" in o or o.get("type") in {"conversation",
                                                              "conversation.list"}:
                return "intercom"
            ticket = o.get("ticket")
            if "ticket_events" in o or "requester_id" in o or isinstance(o.get("tickets"), list) \
                    or (isinstance(ticket, dict) and "requester_id" in ticket):
                return "zendesk"
            embedded = o.get("_embedded")
            if (isinstance(embedded, dict) and {"threads", "conversations"} & set(embedded)) \
                    or "mailboxId" in o or "primaryCustomer" in o:
                return "helpscout"
    return None


def _objects(value: object, depth: int) -> Iterator[dict[str, object]]:
    """The objects of a JSON value, outermost first: list items and values of an object's
    keys, a few of each, ``depth`` levels down."""
    children: list[object] = []
    if isinstance(value, dict):
        yield value
        children = [v for v in value.values() if isinstance(v, (dict, list))]
    elif isinstance(value, list):
        children = value[:5]
    if depth > 0:
        for child in children:
            yield from _objects(child, depth - 1)


class Where:
    """A place in the file: its line (JSON Lines), JSON path and the ticket it is in."""

    def __init__(self, path: str | Path, line: int | None, json_path: str = "$",
                 ticket: str | None = None) -> None:
        self.path, self.line, self.json_path, self.ticket = Path(path), line, json_path, ticket

    def key(self, key: str | int) -> Where:
        step = f"[{key}]" if isinstance(key, int) else f".{key}"
        return Where(self.path, self.line, self.json_path + step, self.ticket)

    def in_ticket(self, kind: str, ticket_id: str) -> Where:
        return Where(self.path, self.line, self.json_path, f"{kind} {ticket_id}")

    def __str__(self) -> str:
        line = f"line {self.line}: " if self.line is not None else ""
        ticket = f" ({self.ticket})" if self.ticket else ""
        return f"{self.path}: {line}{self.json_path}{ticket}"

    def fail(self, problem: str) -> DeskExportError:
        return DeskExportError(f"{self}: {problem}. Nothing was imported.")


def obj(value: object, where: Where) -> dict[str, object]:
    if not isinstance(value, dict):
        raise where.fail(f"expected a JSON object, found {_kind(value)}")
    return value


def items(parent: dict[str, object], key: str, where: Where) -> list[tuple[Where, object]]:
    """``parent[key]`` as a list (missing or null: empty), each item with its place."""
    value = parent.get(key)
    if value is None:
        return []
    here = where.key(key)
    if not isinstance(value, list):
        raise here.fail(f"expected a list, found {_kind(value)}")
    return [(here.key(i), item) for i, item in enumerate(value)]


def ident(parent: dict[str, object], key: str, where: Where) -> str:
    """A required id (a string or an integer), as a string."""
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise where.key(key).fail(f"expected an id, found {_kind(value)}")
    return str(value)


def first_by_id(entries: Iterable[tuple[Where, dict[str, object]]],
                ) -> Iterator[tuple[str, Where, dict[str, object]]]:
    """Each record once by its required ``id``, in file order (an export repeats a record
    that changed, and two overlapping files repeat many): ``(id, where, record)``."""
    seen: set[str] = set()
    for where, record in entries:
        record_id = ident(record, "id", where)
        if record_id not in seen:
            seen.add(record_id)
            yield record_id, where, record


def text(parent: dict[str, object], key: str, where: Where) -> str | None:
    """An optional string (missing or null: None)."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.key(key).fail(f"expected a string, found {_kind(value)}")
    return value


def when(parent: dict[str, object], key: str, where: Where, *,
         required: bool = True) -> datetime | None:
    """A time: ISO 8601 (``2026-03-04T10:15:00Z``) or Unix seconds, as an aware datetime."""
    value = parent.get(key)
    if value is None and not required:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    raise where.key(key).fail(f"{json.dumps(value)[:40]} is not a time (expected ISO 8601, "
                              "e.g. 2026-03-04T10:15:00Z, or Unix seconds)")


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)
