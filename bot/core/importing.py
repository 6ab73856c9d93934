"""Read interview notes, support tickets and survey answers from CSV or JSONL files.

The whole file is decoded and parsed before anything is written, so a file in the wrong
encoding or with broken CSV quoting is refused as a whole with the line to look at. Rows
that are individually bad are reported with their line numbers and skipped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bot.core.imports import RowProblem
from store.errors import InvalidQuote
from store.queries.quotes import NewQuote, parse_source_kind

KNOWN_COLUMNS = ("text", "speaker", "company", "segment", "source", "said_at", "url", "tags")
COLUMN_ALIASES = {"quote": "text", "verbatim": "text", "date": "said_at", "link": "url",
                  "source_url": "url", "customer": "speaker", "account": "company"}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and where."""


@dataclass(frozen=True)
class ParsedFile:
    rows: list[tuple[int, NewQuote | RowProblem]]
    extra_columns: tuple[str, ...]
    format: str


def parse_file(path: str | Path, *, team_id: str, captured_by: str = "import") -> ParsedFile:
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"{path}: line {line} is not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file "
            "as UTF-8 (e.g. `iconv -f cp1252 -t utf-8`) and import it again. Nothing was "
            "imported.") from None
    fmt = "jsonl" if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else "csv"
    records: Iterator[tuple[int, Mapping[str, object] | RowProblem]]
    if fmt == "jsonl":
        records = _jsonl_records(text)
    else:
        records = _csv_records(text, path)
    rows: list[tuple[int, NewQuote | RowProblem]] = []
    extras: dict[str, None] = {}
    for line, record in records:
        if isinstance(record, RowProblem):
            rows.append((line, record))
            continue
        for key in record:
            if _column(key) not in KNOWN_COLUMNS:
                extras[key] = None
        rows.append((line, _to_quote(line, record, team_id, captured_by)))
    if fmt == "csv" and rows == [] and not text.strip():
        raise ImportFileError(f"{path}: the file is empty")
    return ParsedFile(rows=rows, extra_columns=tuple(extras), format=fmt)


def _column(name: str) -> str:
    key = name.strip().lower().replace(" ", "_")
    return COLUMN_ALIASES.get(key, key)


def _csv_records(text: str, path: Path) -> Iterator[tuple[int, dict[str, str] | RowProblem]]:
    header_line = text.split("\n", 1)[0]
    delimiter = next((d for d in (",", ";", "\t") if d in header_line), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise ImportFileError(f"{path}: line 1: broken CSV ({exc}). Nothing was imported.") \
            from None
    columns = [_column(h) for h in header]
    if "text" not in columns:
        raise ImportFileError(
            f"{path}: no `text` column (found: {', '.join(h for h in header) or 'none'}). "
            "The quote's exact words go in a column named `text`. Nothing was imported.")
    out: list[tuple[int, dict[str, str] | RowProblem]] = []
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFileError(
                f"{path}: line {line}: broken CSV quoting ({exc}). Fix the quotes on that "
                "line and import again. Nothing was imported.") from None
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            out.append((line, RowProblem(line, f"{len(values)} fields but the header has "
                                               f"{len(header)}")))
            continue
        out.append((line, dict(zip(header, values))))
    return iter(out)


def _jsonl_records(text: str) -> Iterator[tuple[int, dict[str, object] | RowProblem]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield line, RowProblem(line, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            yield line, RowProblem(line, "each line must be a JSON object with a `text` field")
            continue
        yield line, record


def _to_quote(line: int, record: Mapping[str, object], team_id: str,
              captured_by: str) -> NewQuote | RowProblem:
    fields: dict[str, object] = {}
    tags: list[str] = []
    for key, value in record.items():
        col = _column(str(key))
        if col in KNOWN_COLUMNS:
            fields[col] = value
        elif value not in (None, ""):
            tags.append(f"{key}={value}")
    text = fields.get("text")
    if not isinstance(text, str):
        return RowProblem(line, "`text` is missing" if text is None else "`text` must be a string")
    raw_tags = fields.get("tags")
    if isinstance(raw_tags, list):
        tags = [str(t) for t in raw_tags] + tags
    elif isinstance(raw_tags, str) and raw_tags.strip():
        tags = [t.strip() for t in re.split(r"[;,]", raw_tags) if t.strip()] + tags
    try:
        source = parse_source_kind(_str(fields.get("source")))
        said_at = _date(fields.get("said_at"))
    except InvalidQuote as exc:
        return RowProblem(line, str(exc))
    return NewQuote(team_id=team_id, text=text, source_kind=source,
                    speaker_name=_str(fields.get("speaker")), company=_str(fields.get("company")),
                    segment=_str(fields.get("segment")), source_url=_str(fields.get("url")),
                    said_at=said_at, tags=tuple(tags), captured_by=captured_by)


def _str(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _date(value: object) -> datetime | None:
    s = _str(value)
    if s is None:
        return None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidQuote(f"`said_at` {s!r} is not a date (use YYYY-MM-DD or ISO 8601)") \
            from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
