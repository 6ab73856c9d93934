"""Verbs about quotes: ``import``, ``search`` (by meaning, or ``--text`` literally) and ``demo``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import (
    CliError,
    Progress,
    import_team,
    note_if_no_quotes,
    run_by,
    services_for,
    team_of,
)
from bot.cli.desk import desk_import, desk_text
from bot.cli.transcripts import transcript_import
from bot.config import Settings
from bot.core.desk.reading import FORMATS as DESK_FORMATS
from bot.core.query import parse_query, topic_problem
from bot.core.transcripts import FORMATS, SUFFIXES
from store.queries.quotes import QuoteView

if TYPE_CHECKING:
    from bot.container import Services

log = logging.getLogger("voicebot")

DEMO_TEAM = "TDEMO"
DEMO_RECORDING = "https://recordings.example.com/demo-interview"
DEMO_INTERVIEW_TOPIC = "top up failed and nobody told me source:interview"
DEMO_TOPICS = ("my card still hasn't arrived", "exchange rate fees are too high",
               "I was charged twice", "can't verify my identity")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's verbs to the ``voicebot`` parser."""
    p = sub.add_parser("import", help="import quotes from a CSV or JSONL file, an "
                       "interview transcript (.vtt, .srt, .txt) or a support-desk export "
                       "(Zendesk, Intercom, Help Scout JSON)",
                       description="Import quotes. CSV/JSONL: `text` is required; optional "
                       "columns: speaker, company, segment, source, said_at, url, tags. Other "
                       "columns are kept as tags. A transcript (.vtt, .srt, .txt, or --format) "
                       "becomes quote-sized passages of the users' exact words. A Zendesk, "
                       "Intercom or Help Scout export (.json/.jsonl, detected from its shape, "
                       "or --format) becomes passages of the customers' own comments, never "
                       "agents' replies, notes or bots. Importing the "
                       "same file twice adds nothing; a corrected file updates the quotes whose "
                       "attribution changed (rows with the same words, or the same `id` "
                       "column value) instead of adding them again. Every import is recorded: "
                       "see `voicebot imports`. Exit status: 0 when every row was "
                       "imported, updated or already there, 1 when rows were rejected (the "
                       "good rows are imported either way) or the file was refused.")
    p.add_argument("file", help="a .csv or .jsonl file, a .vtt/.srt/.txt transcript or a "
                   "support-desk .json/.jsonl export (UTF-8)")
    p.add_argument("--team", help="Slack team id (optional when the store knows one workspace)")
    p.add_argument("--by", metavar="NAME", help="who runs the import, as `voicebot imports` "
                   "lists it (default: your operating-system user)")
    c = p.add_argument_group("CSV/JSONL")
    order = c.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", action="store_true", help="read 02/10/2026 as 2 October "
                       "(default: decided from the file's unambiguous dates)")
    order.add_argument("--monthfirst", action="store_true", help="read 02/10/2026 as "
                       "February 10")
    c.add_argument("--encoding", metavar="NAME", help="the file's text encoding, e.g. "
                   "cp1252 for a CSV saved by Excel on Windows (default: UTF-8)")
    c.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN,...",
                   help="take a field from a column of another name, e.g. --map "
                   "'speaker=Interviewee,text=\"What frustrates you?\"' (double quotes around "
                   "names with spaces or commas; repeatable)")
    t = p.add_argument_group("transcripts and support-desk exports")
    t.add_argument("--format", choices=(*FORMATS, *DESK_FORMATS), help="read the file as "
                   "this transcript format or support-desk export (default: detected from the "
                   "content)")
    t.add_argument("--interviewer", action="append", default=[], metavar="NAME",
                   help="a speaker on the team's side, not quoted (repeatable)")
    t.add_argument("--speaker", action="append", default=[], metavar="NAME",
                   help="a speaker who is a user: only their words are quoted (repeatable)")
    t.add_argument("--company", help="the users' organisation (support desks: when the "
                   "export names none)")
    t.add_argument("--segment", help="e.g. enterprise, smb (transcripts and support desks)")
    t.add_argument("--said-at", metavar="DATE", help="YYYY-MM-DD or ISO 8601 (default: the "
                   "recording date when the file carries it)")
    t.add_argument("--recording-url", metavar="URL",
                   help="each quote links to URL#t=<seconds>")
    d = p.add_argument_group("support-desk exports")
    d.add_argument("--ticket-url", metavar="URL", help="link each quote to URL with {id} "
                   "replaced by the conversation id, when the export carries no link "
                   "(Intercom), e.g. 'https://app.intercom.com/a/inbox/APP/inbox/"
                   "conversation/{id}'")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("search", help="find the quotes /voice would show",
                       description="Search quotes. The topic may hold filters: segment:, "
                       "company:, source:, emotion:, speaker:, since:, before:, new:.")
    p.add_argument("topic", nargs="*", help="what to search for, e.g. 'export is slow'")
    p.add_argument("--text", metavar="WORDS", help="instead of a topic: list the quotes whose "
                   "words contain WORDS literally (case-insensitive), newest first, e.g. to "
                   "find a name for a deletion request")
    p.add_argument("--team", help="Slack team id (optional when the store knows one workspace)")
    p.add_argument("--limit", type=int, default=5, help="how many quotes (default 5)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("demo", help="load bundled sample customer messages and search them",
                       description="Load 462 real public customer messages (Banking77, "
                       "CC-BY-4.0) and a short sample interview transcript (the customer's "
                       "turns only) into the configured database under team TDEMO, then "
                       "run a few searches.")
    p.add_argument("topic", nargs="*", help="search this topic instead of the sample topics")
    p.set_defaults(func=cmd_demo)


TRANSCRIPT_FLAGS = ("format", "interviewer", "speaker", "company", "segment", "said_at",
                    "recording_url", "ticket_url")


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.import_dates import Order
    from bot.core.importing import ImportFileError, parse_file, parse_map

    if (text := desk_text(args)) is not None:
        return desk_import(args, settings, text)
    if args.ticket_url:
        raise CliError("--ticket-url only applies to support-desk exports")
    if args.format or Path(args.file).suffix.lower() in SUFFIXES:
        return transcript_import(args, settings)
    used = [f"--{f.replace('_', '-')}" for f in TRANSCRIPT_FLAGS if getattr(args, f)]
    if used:
        raise CliError(f"{', '.join(used)} only apply to transcripts (.vtt, .srt, .txt or "
                       "--format) and support-desk exports")
    if args.encoding:
        import codecs

        try:
            codecs.lookup(args.encoding)
        except LookupError:
            raise CliError(f"--encoding {args.encoding}: unknown encoding (e.g. utf-8, "
                           "cp1252, latin-1)") from None
    services = services_for(settings, args)
    team = import_team(services, args.team)
    try:
        column_map = {k: v for spec in args.map for k, v in parse_map(spec).items()}
        parsed = parse_file(args.file, team_id=team, column_map=column_map,
                            encoding=args.encoding, date_order=(
            Order.DAY_FIRST if args.dayfirst else Order.MONTH_FIRST if args.monthfirst
            else None))
    except ImportFileError as exc:
        raise CliError(str(exc)) from None
    if parsed.extra_columns:
        print(f"note: kept extra columns as tags: {', '.join(parsed.extra_columns)}",
              file=sys.stderr)
    for file_note in parsed.file_notes:
        print(f"note: {file_note}", file=sys.stderr)
    run = services.import_log.begin(team, kind=parsed.format, file_name=Path(args.file).name,
                                    by=run_by(args))
    bar = Progress("importing", total=len(parsed.rows))
    summary = services.imports.import_quotes(parsed.rows, run=run, progress=bar.update)
    bar.close()
    services.import_log.finish(run, added=summary.added, updated=summary.updated,
                               unchanged=summary.unchanged, rejected=len(summary.rejected))
    for note in parsed.notes[:50]:
        print(f"{args.file}:{note.line}: {note.message}", file=sys.stderr)
    if len(parsed.notes) > 50:
        print(f"... and {len(parsed.notes) - 50} more notes", file=sys.stderr)
    for problem in summary.rejected[:50]:
        print(f"{args.file}:{problem.line}: skipped: {problem.reason}", file=sys.stderr)
    if len(summary.rejected) > 50:
        print(f"... and {len(summary.rejected) - 50} more rejected rows", file=sys.stderr)
    print(f"added {summary.added}, updated {summary.updated}, unchanged {summary.unchanged}, "
          f"rejected {len(summary.rejected)} (team {team}, import #{run.id})")
    return 1 if summary.rejected else 0  # the good rows are stored either way

def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.terminal import render

    if not 1 <= args.limit <= 100:
        raise CliError("--limit must be between 1 and 100")
    if args.text is not None:
        return _text_search(args, settings)
    query = parse_query(" ".join(args.topic))
    if query.problems:
        raise CliError(" ".join(query.problems))
    if query.topic and (problem := topic_problem(query.topic, how="voicebot search")):
        raise CliError(problem)
    if not query.topic and not query.filters:
        raise CliError("give a topic to search for, e.g. `voicebot search export is slow`")
    services = services_for(settings, args)
    team = team_of(services, args.team)
    result = services.search.search(team, query, limit=args.limit)
    if args.json:
        print(json.dumps([_hit_json(h.quote, h.score) for h in result.hits],
                         ensure_ascii=False, indent=2))
    else:
        print(render(result))
    if not result.hits:
        note_if_no_quotes(services, team)
    return 0


def _text_search(args: argparse.Namespace, settings: Settings) -> int:
    """``search --text``: a literal substring of the words, not a similarity search."""
    from bot.cli.terminal import render
    from bot.core.search import Breadth, QuoteHit, SearchResult

    if args.topic:
        raise CliError("give either a topic or --text, not both")
    if not args.text.strip():
        raise CliError("--text needs the words to look for")
    services = services_for(settings, args)
    team = team_of(services, args.team)
    found = services.lookup.text_search(team, args.text, limit=args.limit)
    if not found:
        note_if_no_quotes(services, team)
    if args.json:
        print(json.dumps([_hit_json(v, None) for v in found], ensure_ascii=False, indent=2))
        return 0
    dates = [v.when for v in found]
    breadth = Breadth(matches=len(found),
                      people=len({v.speaker_key for v in found if v.speaker_key}),
                      companies=len({v.company_key for v in found if v.company_key}),
                      unnamed_companies=any(not v.company_key for v in found),
                      first=min(dates, default=None), last=max(dates, default=None))
    result = SearchResult(query=parse_query(""), hits=tuple(QuoteHit(v, 1.0) for v in found),
                          breadth=breadth)
    print(render(result, title=f'Quotes whose words contain "{args.text}"', scores=False))
    return 0


def _hit_json(quote: QuoteView, score: float | None) -> dict[str, object]:
    return {"id": quote.id, "text": quote.text, "speaker": quote.speaker_name,
            "company": quote.company, "segment": quote.segment, "source": quote.source_kind,
            "url": quote.source_url,
            # when the user said it (null when the source gave no date), and when it was saved
            "said_at": quote.said_at.isoformat() if quote.said_at else None,
            "captured_at": quote.captured_at.isoformat(),
            "first_hand": quote.first_hand, "relayed_by": quote.relayed_by,
            "emotion": quote.emotion, "tags": list(quote.tags),
            "score": None if score is None else round(score, 4),
            # who may see it in Slack: a quote from a private conversation shows only there,
            # unless someone made it shareable
            "visibility": {"private_origin": quote.is_private, "channel": quote.channel_id,
                           "shareable": quote.shareable}}

def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.terminal import render
    from bot.core.importing import parse_file

    services = services_for(settings, args)
    sample = resources.files("bot") / "data" / "demo_quotes.csv"
    with resources.as_file(sample) as path:
        parsed = parse_file(path, team_id=DEMO_TEAM, captured_by="demo")
    bar = Progress("loading sample", total=len(parsed.rows))
    summary = services.imports.import_quotes(parsed.rows, progress=bar.update)
    bar.close()
    print(f"Sample: added {summary.added}, already there {summary.duplicates} "
          f"(462 Banking77 customer messages, CC-BY-4.0)")
    interview = _demo_interview(services)
    print(f"Sample interview: {interview} (demo_interview.vtt, only the customer's turns)\n")
    topics = [" ".join(args.topic)] if args.topic else [*DEMO_TOPICS, DEMO_INTERVIEW_TOPIC]
    for topic in topics:
        print("$ /voice " + topic)
        print(render(services.search.search(DEMO_TEAM, parse_query(topic), limit=3)))
    return 0


def _demo_interview(services: Services) -> str:
    """Import the bundled sample interview under the demo team (again: nothing added)."""
    from bot.core.transcript_imports import TranscriptOptions, choose_users, to_quotes
    from bot.core.transcripts import read

    sample = resources.files("bot") / "data" / "demo_interview.vtt"
    with resources.as_file(sample) as path:
        transcript = read(path, path.read_text(encoding="utf-8"), None)
        users = choose_users(transcript, interviewers=["Priya Raman"], speakers=())
        quotes = to_quotes(path, transcript, users, TranscriptOptions(
            team_id=DEMO_TEAM, company="Demo customer", segment="consumer", said_at=None,
            recording_url=DEMO_RECORDING))
    summary = services.transcripts.import_quotes(quotes)
    return f"added {summary.added}, already there {summary.unchanged + summary.updated}"
