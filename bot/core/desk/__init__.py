"""Support-desk exports (Zendesk, Intercom, Help Scout): only the customers' own words, as
quote-sized passages, attributed and linked. Reading the file is :mod:`.reading`, each
vendor's shape its own module, turning comments into quotes :mod:`.quotes`."""

from __future__ import annotations

from pathlib import Path

from bot.core.desk.comments import CustomerComment, DeskExport
from bot.core.desk.reading import FORMATS, SUFFIXES, DeskExportError, detect, load


def sniff(path: str | Path, text: str) -> str | None:
    """The vendor of a .json/.jsonl file, or None when it is not a support-desk export (or
    not JSON at all: the CSV/JSONL importer then says what is wrong)."""
    try:
        return detect(load(path, text))
    except DeskExportError:
        return None


def read_export(path: str | Path, text: str, fmt: str | None = None) -> DeskExport:
    """Read the export (``fmt`` forces the vendor); raises :class:`DeskExportError` naming
    where the file is malformed."""
    docs = load(path, text)
    fmt = fmt or detect(docs)
    if fmt is None:
        raise DeskExportError(f"{path}: not a Zendesk, Intercom or Help Scout export (no "
                              "tickets, ticket_events, conversations or conversation_parts). "
                              "Nothing was imported.")
    from bot.core.desk import helpscout, intercom, zendesk  # only when a file is read

    readers = {"zendesk": zendesk.read, "intercom": intercom.read, "helpscout": helpscout.read}
    if fmt not in readers:
        raise DeskExportError(f"{path}: unknown support-desk format {fmt!r} (use one of "
                              f"{', '.join(FORMATS)})")
    export = readers[fmt](path, docs)
    if not export.tickets:
        raise DeskExportError(f"{path}: no {'tickets' if fmt == 'zendesk' else 'conversations'}"
                              f" found (read as {fmt}). Nothing was imported.")
    return export


__all__ = ["FORMATS", "SUFFIXES", "CustomerComment", "DeskExport", "DeskExportError",
           "read_export", "sniff"]
