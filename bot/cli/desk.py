"""``voicebot import`` of a support-desk export (Zendesk, Intercom, Help Scout)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import CliError, import_team, services_for
from bot.config import Settings

#: flags that only mean something for an interview transcript
TRANSCRIPT_ONLY = ("interviewer", "speaker", "said_at", "recording_url")


def desk_import(args: argparse.Namespace, settings: Settings, text: str) -> int:
    from bot.core.desk import DeskExportError, read_export
    from bot.core.desk.quotes import DeskOptions, to_quotes

    used = [f"--{f.replace('_', '-')}" for f in TRANSCRIPT_ONLY if getattr(args, f)]
    if used:
        raise CliError(f"{', '.join(used)} only apply to interview transcripts, not to a "
                       "support-desk export")
    if args.ticket_url and "{id}" not in args.ticket_url:
        raise CliError("--ticket-url needs {id} where the conversation id goes, e.g. "
                       "https://app.intercom.com/a/inbox/x/inbox/conversation/{id}")
    try:
        export = read_export(Path(args.file), text, args.format)
    except DeskExportError as exc:
        raise CliError(str(exc)) from None
    services = services_for(settings, args)
    team = import_team(services, args.team)
    quotes = to_quotes(export, DeskOptions(team_id=team, segment=args.segment,
                                           company=args.company, ticket_url=args.ticket_url))
    summary = services.transcripts.import_quotes(quotes)
    people = len({q.speaker_name for q in quotes})
    skipped = ", ".join(f"{why}: {n}" for why, n in sorted(export.skipped.items()))
    units = "tickets" if export.format == "zendesk" else "conversations"
    print(f"{export.format} export: {export.tickets} {units}, {len(export.comments)} customer "
          f"comments from {people} people as {len(quotes)} passages"
          + (f" (not quoted: {skipped})" if skipped else ""), file=sys.stderr)
    print(f"added {summary.added}, updated {summary.updated}, unchanged {summary.unchanged} "
          f"(team {team})")
    return 0


def desk_text(args: argparse.Namespace) -> str | None:
    """The file's text when ``voicebot import`` should read it as a support-desk export:
    ``--format zendesk|intercom|helpscout``, or a .json/.jsonl/.ndjson file shaped like one."""
    from bot.core.desk import FORMATS, SUFFIXES, sniff

    path = Path(args.file)
    forced = args.format in FORMATS
    if not forced and (args.format or path.suffix.lower() not in SUFFIXES or not path.is_file()):
        return None
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if not forced:
            return None  # the CSV/JSONL importer names the byte
        raise CliError(f"{path}: byte {exc.start + 1} is not UTF-8; vendors export UTF-8 "
                       "JSON, so the file may be damaged. Nothing was imported.") from None
    return text if forced or sniff(path, text) else None
