"""Verbs about imports as a whole: ``imports`` (list, ``undo ID``) and ``export``."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.cli.common import CliError, Progress, note_if_no_quotes, run_by, services_for, team_of
from bot.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's verbs to the ``voicebot`` parser."""
    p = sub.add_parser("imports", help="list past imports; `imports undo ID` takes one back",
                       description="List past imports (CSV/JSONL files, transcripts, "
                       "support-desk exports), newest first: id, when, kind, file, who ran "
                       "it, and what it added, updated, left unchanged and rejected.")
    p.add_argument("--team", help="only this Slack team id's imports")
    p.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_imports)
    verbs = p.add_subparsers(dest="imports_command", metavar="undo")
    u = verbs.add_parser("undo", help="remove what one import added",
                         description="Remove the quotes import ID added (audited, like any "
                         "deletion) and put back the attribution of the stored quotes it "
                         "updated, unless they changed again since. Quotes that existed "
                         "before the import are never removed; words it replaced are not put "
                         "back (the earlier words stay in the quote's revisions). Asks for "
                         "confirmation on a terminal; --yes for scripts. Without a terminal "
                         "and without --yes it only says what it would do, and exits 1.")
    u.add_argument("id", type=int, help="the import's id, as `voicebot imports` lists it")
    u.add_argument("--team", help="refuse unless the import belongs to this Slack team id")
    u.add_argument("--yes", action="store_true", help="do it without asking")
    u.add_argument("--by", metavar="NAME", help="who undoes it, for the audit log "
                   "(default: your operating-system user)")
    u.set_defaults(func=cmd_undo)

    e = sub.add_parser("export", help="write every quote of a workspace to a file",
                       description="Write every quote of a workspace with its full "
                       "attribution (speaker, company, segment, source, dates, link, tags, "
                       "Slack origin and privacy, transcript position) as JSONL or CSV. "
                       "`voicebot import` reads the file back: the same quotes, in another "
                       "database or this one (where nothing is added). CSV cells starting "
                       "with = + - @ get a leading ' so no spreadsheet runs them as a "
                       "formula; the import removes it.")
    e.add_argument("--team", help="Slack team id (optional when the store knows one workspace)")
    e.add_argument("--format", choices=("jsonl", "csv"), help="default: from --output's "
                   "suffix, else jsonl")
    e.add_argument("--output", "-o", metavar="FILE", help="write here (default: standard "
                   "output); the file appears only once it is complete")
    e.set_defaults(func=cmd_export)


def cmd_imports(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.limit <= 10_000:
        raise CliError("--limit must be between 1 and 10000")
    services = services_for(settings, args)
    found = services.import_log.listing(args.team, limit=args.limit)
    if args.json:
        print(json.dumps([{
            "id": r.id, "team": r.team_id, "kind": r.kind, "file": r.file_name,
            "by": r.run_by, "started_at": r.started_at.isoformat(),
            "finished": r.finished_at is not None, "added": r.added, "updated": r.updated,
            "unchanged": r.unchanged, "rejected": r.rejected, "still_stored": r.present,
            "undone_at": r.undone_at.isoformat() if r.undone_at else None,
            "undone_by": r.undone_by} for r in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("no imports recorded" + (f" for team {args.team}" if args.team else ""))
        return 0
    print(f"{'id':>5}  {'when (UTC)':16}  {'team':11}  {'kind':10}  {'by':12}  "
          f"{'added':>6} {'updated':>7} {'unchanged':>9} {'rejected':>8}  file")
    for r in found:
        state = (f"  (undone {r.undone_at:%Y-%m-%d} by {r.undone_by})" if r.undone_at
                 else "  (interrupted)" if r.finished_at is None else "")
        print(f"{r.id:>5}  {r.started_at:%Y-%m-%d %H:%M}  {r.team_id[:11]:11}  "
              f"{r.kind[:10]:10}  {r.run_by[:12]:12}  {r.added:>6} {r.updated:>7} "
              f"{r.unchanged:>9} {r.rejected:>8}  {r.file_name}{state}")
    return 0


def _confirm(question: str) -> bool | None:
    """y/N on a terminal; None when there is no terminal to ask."""
    if not sys.stdin.isatty():
        return None
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def cmd_undo(args: argparse.Namespace, settings: Settings) -> int:
    services = services_for(settings, args)
    plan = services.import_log.plan_undo(args.id, args.team)
    r = plan.record
    what = (f"import #{r.id} ({r.kind} {r.file_name}, {r.started_at:%Y-%m-%d %H:%M} UTC by "
            f"{r.run_by}, team {r.team_id}): remove the {plan.remove} quote"
            f"{'s' * (plan.remove != 1)} it added and still stored")
    if plan.restore:
        what += (f"; put back the earlier attribution of the {plan.restore} stored quote"
                 f"{'s' * (plan.restore != 1)} it updated (words it replaced stay as they "
                 "are, the earlier words in the revisions)")
    if not args.yes:
        answer = _confirm(f"Undo {what}?")
        if answer is None:
            print(f"would undo {what}. Nothing was changed: run it on a terminal to confirm, "
                  "or add --yes.", file=sys.stderr)
            return 1
        if not answer:
            print("nothing was changed", file=sys.stderr)
            return 1
    done = services.import_log.undo(args.id, by=run_by(args), team_id=args.team)
    print(f"undid import #{r.id}: removed {done.removed}, restored {done.restored}"
          + (f", left {done.left} changed since as they are" if done.left else ""))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    fmt = args.format or ("csv" if args.output and args.output.lower().endswith(".csv")
                          else "jsonl")
    target = Path(args.output) if args.output and args.output != "-" else None
    if target is not None and not target.parent.is_dir():
        raise CliError(f"--output {target}: no such directory")
    services = services_for(settings, args)
    team = team_of(services, args.team)
    total = services.export.count(team)
    bar = Progress("exporting", total=total if sys.stderr.isatty() else None)
    try:
        if target is None:
            written = _write(sys.stdout, fmt, services.export.rows(team), bar)
        else:
            written = _write_file(target, fmt, services.export.rows(team), bar)
    finally:
        bar.close()
    print(f"exported {written} quotes of team {team}"
          + (f" to {target} ({fmt})" if target else f" ({fmt})"), file=sys.stderr)
    if not written:
        note_if_no_quotes(services, team)
    return 0


def _write_file(target: Path, fmt: str, rows: Iterable[dict[str, object]],
                bar: Progress) -> int:
    """Write beside ``target`` and rename when complete (an interrupted export leaves no
    half file); a BOM lets Excel read a UTF-8 CSV, and `voicebot import` skips it."""
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8",
                          newline="") as out:
            written = _write(out, fmt, rows, bar)
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return written


def _write(out: TextIO, fmt: str, rows: Iterable[dict[str, object]], bar: Progress) -> int:
    from bot.core.quote_columns import EXPORT_COLUMNS, csv_cells

    written = 0
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        if writer is not None:
            writer.writerow(csv_cells(row))
        else:  # U+2028/9 escaped: some readers split lines on them
            line = json.dumps(row, ensure_ascii=False)
            out.write(line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n")
        written += 1
        bar.update(1)
    return written
