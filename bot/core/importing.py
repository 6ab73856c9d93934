"""Read interview notes, support tickets and survey answers from CSV or JSONL files.

The whole file is decoded and parsed before anything is written, so a file in the wrong
encoding or with broken CSV quoting is refused as a whole with the line to look at. Rows
that are individually bad are reported with their line numbers and skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.import_dates import Ambiguity, Order, decide_order, parse_date
from bot.core.imports import RowProblem
from bot.core.quote_columns import (
    EXPORT_COLUMNS,
    KNOWN_COLUMNS,
    origin_fields,
    tags_cell,
    unguard_cell,
)
from store.errors import InvalidQuote
from store.queries.quotes import NewQuote, parse_source_kind
from store.vocab import SourceKind

COLUMN_ALIASES = {"quote": "text", "verbatim": "text", "date": "said_at", "link": "url",
                  "source_url": "url", "customer": "speaker", "account": "company",
                  "external_id": "id", "is_private": "private", "is_excerpt": "excerpt"}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and where."""


@dataclass(frozen=True)
class RowNote:
    """Something about a row that was imported anyway (a date not understood)."""

    line: int
    message: str


@dataclass(frozen=True)
class ParsedFile:
    rows: list[tuple[int, NewQuote | RowProblem]]
    extra_columns: tuple[str, ...]
    format: str
    notes: tuple[RowNote, ...] = ()
    date_order: Order | None = None
    #: about the file as a whole: unknown sources kept as `other`, column suggestions
    file_notes: tuple[str, ...] = ()


#: Header words that suggest a column holds who said it (Typeform, Google Forms exports).
SPEAKER_WORDS = ("name", "interviewee", "respondent", "customer", "user")
NOT_SPEAKER_WORDS = ("company", "organisation", "organization", "account", "email", "e-mail",
                     " id", "_id")
#: Average length of a column's values from which it reads as free-text answers.
FREE_TEXT_CHARS = 40


def parse_map(spec: str) -> dict[str, str]:
    """``speaker=Interviewee,text="What frustrates you?"`` as ``{target: source column}``.
    Double quotes allow spaces, commas and ``=`` in a name (``""`` is a quote inside them)."""
    items: list[list[str]] = [[""]]
    quoted = False
    i = 0
    while i < len(spec):
        ch = spec[i]
        if ch == '"':
            if quoted and spec[i + 1:i + 2] == '"':
                items[-1][-1] += '"'
                i += 1
            else:
                quoted = not quoted
        elif ch == "," and not quoted:
            items.append([""])
        elif ch == "=" and not quoted and len(items[-1]) == 1:
            items[-1].append("")
        else:
            items[-1][-1] += ch
        i += 1
    if quoted:
        raise ImportFileError(f"--map {spec}: a double quote is not closed")
    mapping: dict[str, str] = {}
    for item in items:
        if item == [""]:
            continue
        if len(item) != 2 or not item[0].strip() or not item[1].strip():
            raise ImportFileError(f"--map {spec}: write target=column, e.g. "
                                  "--map speaker=Interviewee")
        target = _column(item[0])
        if target not in KNOWN_COLUMNS:
            raise ImportFileError(f"--map {spec}: {item[0].strip()!r} is not a field; map to "
                                  f"one of {', '.join(KNOWN_COLUMNS)}")
        mapping[target] = item[1].strip()
    return mapping


class Columns:
    """Which field each column of the file fills: its name or alias, unless ``--map`` says
    otherwise (a column whose field was mapped from another column is kept as tags)."""

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self.by_source = {src.strip().casefold(): tgt for tgt, src in (mapping or {}).items()}
        self.mapped = set(self.by_source.values())

    def __call__(self, name: str) -> str | None:
        if (target := self.by_source.get(name.strip().casefold())) is not None:
            return target
        col = _column(name)
        return col if col in KNOWN_COLUMNS and col not in self.mapped else None


def parse_file(path: str | Path, *, team_id: str, captured_by: str = "import",
               date_order: Order | None = None,
               column_map: Mapping[str, str] | None = None,
               encoding: str | None = None) -> ParsedFile:
    """Read the file. ``date_order`` says how to read ``02/10/2026`` (default: decided from
    the file's unambiguous dates; a file that stays ambiguous is refused). ``column_map``
    (``{field: column}``, see :func:`parse_map`) names the columns for fields. ``encoding``
    defaults to UTF-8 (with or without a BOM)."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    text = _decode(path, path.read_bytes(), encoding)
    fmt = "jsonl" if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else "csv"
    read: list[tuple[int, Mapping[str, object] | RowProblem]]
    header: list[str]
    if fmt == "jsonl":
        read = list(_jsonl_records(text))
        header = list(dict.fromkeys(str(k) for _, r in read if isinstance(r, Mapping)
                                    for k in r))
    else:
        header, csv_rows = _csv_records(text, path)
        read = list(csv_rows)
    columns = Columns(column_map)
    found = {h.strip().casefold() for h in header}
    missing = [src for src in columns.by_source if src not in found]
    if missing and (fmt == "csv" or read):
        wanted = [src for src in (column_map or {}).values() if src.strip().casefold() in missing]
        raise ImportFileError(
            f"{path}: --map names {', '.join(repr(w) for w in wanted)} but the file has no "
            f"such column (found: {', '.join(header) or 'none'}). Nothing was imported.")
    hints = _suggestions(header, read, columns)
    if fmt == "csv" and "text" not in {columns(h) for h in header}:
        hint = next((f"Column {h!r} looks like free-text answers; import with "
                     f"{_map_arg('text', h)}. " for target, h in hints if target == "text"), "")
        raise ImportFileError(
            f"{path}: no `text` column (found: {', '.join(h for h in header) or 'none'}). "
            "The quote's exact words go in a column named `text`, or name the column with "
            f"--map text=COLUMN. {hint}Nothing was imported.")
    order = date_order or _file_order(path, read, columns)
    rows: list[tuple[int, NewQuote | RowProblem]] = []
    notes: list[RowNote] = []
    unknown_sources: dict[str, int] = {}
    extras: dict[str, None] = {}
    for line, record in read:
        if isinstance(record, RowProblem):
            rows.append((line, record))
            continue
        for key in record:
            if columns(key) is None:
                extras[key] = None
        rows.append((line, _to_quote(line, record, team_id, captured_by, order, notes,
                                     unknown_sources, columns, path.name)))
    if fmt == "csv" and rows == [] and not text.strip():
        raise ImportFileError(f"{path}: the file is empty")
    file_notes = [f'source "{value}" ({n} row{"s" * (n != 1)}) is not one of '
                  f'{", ".join(k.value for k in SourceKind)}; kept as source other with the '
                  f"tag source={value}" for value, n in unknown_sources.items()]
    for target, column in hints:
        what = "a speaker" if target == "speaker" else "free-text answers"
        file_notes.append(f"column {column!r} looks like {what}; import with "
                          f"{_map_arg(target, column)}")
    return ParsedFile(rows=rows, extra_columns=tuple(extras), format=fmt, notes=tuple(notes),
                      date_order=order, file_notes=tuple(file_notes))


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    """The file's text; bytes that do not decode are named by line and byte in that line
    (a UTF-8 byte order mark is not counted)."""
    name = codecs.lookup(encoding).name if encoding else "utf-8"
    if name.startswith("utf-8") and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8" if name.startswith("utf-8") else name)
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw[:exc.start].count(b"\n") + 1
        where = (f"line {line}, byte {exc.start - line_start + 1} "
                 f"(0x{raw[exc.start]:02x})")
        if encoding is None:
            raise ImportFileError(
                f"{path}: {where} is not UTF-8. If the file comes from Excel on Windows, import "
                "it with --encoding cp1252 (or save it as UTF-8). Nothing was imported.") \
                from None
        raise ImportFileError(f"{path}: {where} is not {encoding}. Nothing was imported.") \
            from None


def _suggestions(header: Sequence[str],
                 records: Sequence[tuple[int, Mapping[str, object] | RowProblem]],
                 columns: Columns) -> list[tuple[str, str]]:
    """``(field, column)`` for unrecognised columns that look like a speaker's name or like
    free-text answers, when that field has no column yet."""
    filled = {columns(h) for h in header}
    out: list[tuple[str, str]] = []
    for column in header:
        if columns(column) is not None:
            continue
        low = f" {column.strip().casefold()}"
        values = [str(r[column]).strip() for _, r in records
                  if isinstance(r, Mapping) and r.get(column) not in (None, "")]
        if "speaker" not in filled and any(w in low for w in SPEAKER_WORDS) \
                and not any(w in low for w in NOT_SPEAKER_WORDS):
            out.append(("speaker", column))
            filled.add("speaker")
        elif "text" not in filled and ("?" in column or (
                values and sum(map(len, values)) / len(values) >= FREE_TEXT_CHARS)):
            out.append(("text", column))
            filled.add("text")
    return out


def _map_arg(target: str, column: str) -> str:
    """``--map speaker=Interviewee``, quoted for the shell when the name needs it."""
    if re.fullmatch(r"[\w.-]+", column):
        return f"--map {target}={column}"
    quoted = column.replace('"', '""').replace("'", "'\\''")
    return f"--map '{target}=\"{quoted}\"'"


def _file_order(path: Path, records: Sequence[tuple[int, Mapping[str, object] | RowProblem]],
                columns: Columns) -> Order | None:
    """Day-first or month-first for the whole file, from its unambiguous dates; refuses a
    file whose slash/dot dates stay ambiguous or contradict each other."""
    values = [(line, value) for line, record in records if isinstance(record, Mapping)
              for key, value in record.items()
              if columns(str(key)) == "said_at" and isinstance(value, str)]
    decided = decide_order(values)
    if not isinstance(decided, Ambiguity):
        return decided
    shown = ", ".join(f'line {line} "{value}"' for line, value in decided.examples)
    if decided.conflicting:
        raise ImportFileError(
            f"{path}: the dates disagree: {shown} (day-first, then month-first). Import "
            "again with --dayfirst or --monthfirst; a date that does not fit is imported "
            "without a date. Nothing was imported.")
    raise ImportFileError(
        f"{path}: dates such as {shown} may be day-first or month-first and no date in the "
        "file decides it. Import again with --dayfirst (02/10/2026 is 2 October) or "
        "--monthfirst (02/10/2026 is February 10). Nothing was imported.")


def _column(name: str) -> str:
    key = name.strip().lower().replace(" ", "_")
    return COLUMN_ALIASES.get(key, key)


def _csv_records(text: str,
                 path: Path) -> tuple[list[str], list[tuple[int, dict[str, str] | RowProblem]]]:
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
    out: list[tuple[int, dict[str, str] | RowProblem]] = []
    # only voicebot's own export guards cells against spreadsheet formulas ("'=..."); in any
    # other file a leading apostrophe is part of the words
    ours = [h.strip().lower() for h in header[: len(EXPORT_COLUMNS)]] == list(EXPORT_COLUMNS)
    cell = unguard_cell if ours else str
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
        out.append((line, dict(zip(header, map(cell, values)))))
    return header, out


def _jsonl_records(text: str) -> Iterator[tuple[int, dict[str, object] | RowProblem]]:
    # only "\n" ends a line: a JSON string may hold U+2028 and other line breaks verbatim
    for line, raw in enumerate(text.split("\n"), start=1):
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


def _to_quote(line: int, record: Mapping[str, object], team_id: str, captured_by: str,
              order: Order | None, notes: list[RowNote],
              unknown_sources: dict[str, int], columns: Columns,
              file_name: str) -> NewQuote | RowProblem:
    fields: dict[str, object] = {}
    tags: list[str] = []
    for key, value in record.items():
        col = columns(str(key))
        if col is not None:
            fields[col] = value
        elif value not in (None, ""):
            tags.append(f"{key}={value}")
    text = fields.get("text")
    if not isinstance(text, str):
        return RowProblem(line, "`text` is missing" if text is None else "`text` must be a string")
    raw_tags = fields.get("tags")
    if isinstance(raw_tags, list):
        tags = [str(t) for t in raw_tags] + tags
    elif isinstance(raw_tags, str) and (listed := tags_cell(raw_tags.strip())) is not None:
        tags = listed + tags
    elif isinstance(raw_tags, str) and raw_tags.strip():
        tags = [t.strip() for t in re.split(r"[;,]", raw_tags) if t.strip()] + tags
    try:
        origin = origin_fields(fields, file_name)
    except ValueError as exc:
        return RowProblem(line, str(exc))
    raw_source = _str(fields.get("source"))
    try:
        source = parse_source_kind(raw_source)
    except InvalidQuote:
        # a source we do not know (`webinar`) is no reason to lose the words
        source = SourceKind.OTHER
        tags.append(f"source={raw_source}")
        unknown_sources[str(raw_source)] = unknown_sources.get(str(raw_source), 0) + 1
    raw_date = _str(fields.get("said_at"))
    said_at = None if raw_date is None else parse_date(raw_date, order)
    if raw_date is not None and said_at is None and text.strip():
        # the words matter more than their date: keep them, say so
        notes.append(RowNote(line, f'date "{raw_date}" not understood; imported without a '
                                   "date"))
    origin.setdefault("captured_by", captured_by)
    return NewQuote(team_id=team_id, text=text, source_kind=source,
                    speaker_name=_str(fields.get("speaker")), company=_str(fields.get("company")),
                    segment=_str(fields.get("segment")), source_url=_str(fields.get("url")),
                    said_at=said_at, tags=tuple(tags), **origin)


def _str(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None

