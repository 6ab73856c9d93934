"""The `voicebot` command line: one verb per job. Errors are one line and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings
from bot.core.query import parse_query, topic_problem
from bot.logs import configure_logging

if TYPE_CHECKING:
    from bot.container import Services
    from store.queries.quotes import QuoteView

log = logging.getLogger("voicebot")

DEMO_TEAM = "TDEMO"
DEMO_TOPICS = ("my card still hasn't arrived", "exchange rate fees are too high",
               "I was charged twice", "can't verify my identity")


class CliError(Exception):
    """A problem to report on one line, with exit status 1."""


def main(argv: Sequence[str] | None = None, *, embedder: object | None = None) -> int:
    """Run one command. ``embedder`` is a test seam (the default loads the configured model)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.embedder = embedder
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
        configure_logging("WARNING" if args.command != "serve" and not args.verbose
                          else settings.log_level, settings.log_json)
        return int(args.func(args, settings) or 0)
    except (ConfigError, CliError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; everything committed so far is kept, rerun to resume",
              file=sys.stderr)
        return 130
    except Exception as exc:  # the domain errors of store carry readable messages
        from store.errors import StoreError

        if isinstance(exc, StoreError):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicebot",
        description="Keep users' verbatim words in the room where priorities are argued.",
        epilog="Configuration comes from environment variables; see README.md.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", help="import quotes from a CSV or JSONL file",
                       description="Import quotes. `text` is required; optional columns: "
                       "speaker, company, segment, source, said_at, url, tags. Other columns "
                       "are kept as tags. Importing the same file twice adds nothing.")
    p.add_argument("file", help="a .csv or .jsonl file (UTF-8)")
    p.add_argument("--team", help="Slack team id (optional when the store knows one workspace)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("search", help="find the quotes /voice would show",
                       description="Search quotes. The topic may hold filters: segment:, "
                       "company:, source:, emotion:, speaker:, since:, before:.")
    p.add_argument("topic", nargs="*", help="what to search for, e.g. 'export is slow'")
    p.add_argument("--text", metavar="WORDS", help="instead of a topic: list the quotes whose "
                   "words contain WORDS literally (case-insensitive), newest first, e.g. to "
                   "find a name for a deletion request")
    p.add_argument("--team", help="Slack team id (optional when the store knows one workspace)")
    p.add_argument("--limit", type=int, default=5, help="how many quotes (default 5)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("reindex", help="re-embed quotes made by another model and rebuild "
                       "the index", description="Re-embed stored quotes whose vectors were "
                       "made by a different model than VOICEBOT_EMBEDDING_MODEL.")
    p.add_argument("--all", action="store_true", help="re-embed every quote")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("db", help="database schema commands",
                       description="Manage the database schema (Alembic migrations).")
    p.add_argument("action", choices=["upgrade", "current"],
                   help="upgrade: apply migrations; current: show whether it is up to date")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("secrets", help="the key that encrypts stored Slack tokens",
                       description="OAuth installs store each workspace's Slack tokens "
                       "encrypted with VOICEBOT_SECRET_KEY (Fernet keys, comma-separated, "
                       "newest first). new-key: print a new key. encrypt: encrypt tokens "
                       "stored in plaintext (db upgrade and serve do this too). rotate: "
                       "re-encrypt every token with the first key; afterwards the older keys "
                       "can be removed.")
    p.add_argument("action", choices=["new-key", "encrypt", "rotate"],
                   help="new-key, encrypt or rotate")
    p.set_defaults(func=cmd_secrets)

    p = sub.add_parser("demo", help="load bundled sample customer messages and search them",
                       description="Load 462 real public customer messages (Banking77, "
                       "CC-BY-4.0) into the configured database under team TDEMO, then "
                       "run a few searches.")
    p.add_argument("topic", nargs="*", help="search this topic instead of the sample topics")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("forget", help="delete everything voicebot holds from one person",
                       description="For a deletion request: remove every quote that names "
                       "one person (case-insensitive) as speaker, relayer, company or segment, "
                       "or in a tag (such as Interviewee=Dana Lee), or has their Slack user id "
                       "as speaker or capturer; with its history, vectors and index entries. "
                       "It lists what it would delete first, and counts the quotes that only "
                       "mention the name in their words (review those with `voicebot search "
                       "--text`). An audit record keeps who ran it and when, never the "
                       "deleted words.")
    p.add_argument("--speaker", required=True, help="the person's name or Slack user id")
    p.add_argument("--team", help="Slack team id (optional when the store knows one workspace)")
    p.add_argument("--by", help="who is making this deletion, for the audit (default: your "
                   "login name)")
    p.add_argument("--yes", action="store_true", help="delete without asking")
    p.set_defaults(func=cmd_forget)

    p = sub.add_parser("digest", help="preview or post the weekly digest",
                       description="Preview the weekly digest as people will read it, for "
                       "the current or any past week, or post the due digest once (for cron; "
                       "`voicebot serve` also posts it on schedule). Posting is claimed in the "
                       "database, so running it twice never posts twice.")
    p.add_argument("--team", help="Slack team id (optional when the store knows one workspace)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true", help="print it (the default)")
    mode.add_argument("--post", action="store_true", help="post the due digest to its channel")
    p.add_argument("--week", help="preview the 7 days starting on this date (YYYY-MM-DD)")
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("serve", help="run the Slack bot",
                       description="Run the bot: Socket Mode when SLACK_APP_TOKEN is set, "
                       "otherwise HTTP on --port with POST /slack/events and GET /healthz.")
    p.add_argument("--port", type=int, help="HTTP port (default $PORT or 3000)")
    p.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    p.set_defaults(func=cmd_serve)
    return parser


def _services(settings: Settings, args: argparse.Namespace) -> Services:
    from bot.container import build_services

    bar = _Progress("re-embedding for the configured model")
    services = build_services(settings, embedder=args.embedder, progress=bar.update,
                              on_reembed_start=bar.start)
    bar.close()
    return services


def _team(services: Services, team: str | None) -> str:
    if team:
        return team
    known = services.lookup.teams()
    if len(known) == 1:
        return known[0]
    if not known:
        raise CliError("the store has no workspace yet; pass --team T (your Slack team id)")
    raise CliError(f"the store holds {len(known)} workspaces ({', '.join(known[:5])}); "
                   "pass --team")


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.importing import ImportFileError, parse_file

    services = _services(settings, args)
    try:
        team = args.team or _team(services, None)
    except CliError:
        raise CliError("pass --team T: the workspace these quotes belong to (the store "
                       "knows none or several)") from None
    try:
        parsed = parse_file(args.file, team_id=team)
    except ImportFileError as exc:
        raise CliError(str(exc)) from None
    if parsed.extra_columns:
        print(f"note: kept extra columns as tags: {', '.join(parsed.extra_columns)}",
              file=sys.stderr)
    bar = _Progress("importing", total=len(parsed.rows))
    summary = services.imports.import_quotes(parsed.rows, progress=bar.update)
    bar.close()
    for problem in summary.rejected[:50]:
        print(f"{args.file}:{problem.line}: skipped: {problem.reason}", file=sys.stderr)
    if len(summary.rejected) > 50:
        print(f"... and {len(summary.rejected) - 50} more rejected rows", file=sys.stderr)
    print(f"added {summary.added}, skipped {summary.duplicates} as duplicate, "
          f"rejected {len(summary.rejected)} (team {team})")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.terminal import render

    if not 1 <= args.limit <= 100:
        raise CliError("--limit must be between 1 and 100")
    if args.text is not None:
        return _text_search(args, settings)
    query = parse_query(" ".join(args.topic))
    if query.problems:
        raise CliError(" ".join(query.problems))
    if query.topic and (problem := topic_problem(query.topic)):
        raise CliError(problem)
    if not query.topic and not query.filters:
        raise CliError("give a topic to search for, e.g. `voicebot search export is slow`")
    services = _services(settings, args)
    result = services.search.search(_team(services, args.team), query, limit=args.limit)
    if args.json:
        print(json.dumps([_hit_json(h.quote, h.score) for h in result.hits],
                         ensure_ascii=False, indent=2))
    else:
        print(render(result))
    return 0


def _text_search(args: argparse.Namespace, settings: Settings) -> int:
    """``search --text``: a literal substring of the words, not a similarity search."""
    from bot.cli.terminal import render
    from bot.core.search import Breadth, QuoteHit, SearchResult

    if args.topic:
        raise CliError("give either a topic or --text, not both")
    if not args.text.strip():
        raise CliError("--text needs the words to look for")
    services = _services(settings, args)
    found = services.lookup.text_search(_team(services, args.team), args.text,
                                        limit=args.limit)
    if args.json:
        print(json.dumps([_hit_json(v, None) for v in found], ensure_ascii=False, indent=2))
        return 0
    dates = [v.when for v in found]
    breadth = Breadth(matches=len(found),
                      people=len({v.speaker_key for v in found if v.speaker_key}),
                      companies=len({v.company_key for v in found if v.company_key}),
                      first=min(dates, default=None), last=max(dates, default=None))
    result = SearchResult(query=parse_query(""), hits=tuple(QuoteHit(v, 1.0) for v in found),
                          breadth=breadth)
    print(render(result, title=f'Quotes whose words contain "{args.text}"', scores=False))
    return 0


def _hit_json(quote: QuoteView, score: float | None) -> dict[str, object]:
    return {"id": quote.id, "text": quote.text, "speaker": quote.speaker_name,
            "company": quote.company, "segment": quote.segment, "source": quote.source_kind,
            "url": quote.source_url, "said_at": quote.when.isoformat(),
            "first_hand": quote.first_hand, "relayed_by": quote.relayed_by,
            "emotion": quote.emotion, "tags": list(quote.tags),
            "score": None if score is None else round(score, 4),
            # who may see it in Slack: a quote from a private conversation shows only there,
            # unless someone made it shareable
            "visibility": {"private_origin": quote.is_private, "channel": quote.channel_id,
                           "shareable": quote.shareable}}


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    services = _services(settings, args)
    if args.all:
        total = services.lookup.count()
        bar = _Progress("re-embedding", total=total)
        done = services.indexing.reembed(progress=bar.update)
        bar.close()
        print(f"re-embedded {done} quotes with {services.embedder.name}")
    else:
        print(f"index ready: {services.indexes.total()} quotes in "
              f"{len(services.indexes.teams())} workspace(s), model {services.embedder.name}")
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from store import db

    engine = db.make_engine(settings.database_url)
    db.check_connection(engine)
    if args.action == "upgrade":
        from bot.slack.installations import secure_stored_tokens

        db.upgrade(settings.database_url)
        print(f"database is up to date ({engine.url.render_as_string(hide_password=True)})")
        note = secure_stored_tokens(settings, engine)
        if note:
            print(note)
    else:
        print("up to date" if db.is_current(engine) else "needs `voicebot db upgrade`")
    return 0


def cmd_secrets(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "new-key":
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        print("export it as VOICEBOT_SECRET_KEY; to replace a key in use, put the new one "
              "first (VOICEBOT_SECRET_KEY=new,old), run `voicebot secrets rotate`, then drop "
              "the old one", file=sys.stderr)
        return 0
    from bot.slack import installations
    from store import db

    settings.require_secret_key()
    engine = db.make_engine(settings.database_url)
    db.check_connection(engine)
    db.upgrade(settings.database_url)  # the token columns are widened by migration 0006
    try:
        if args.action == "encrypt":
            done = installations.encrypt_plaintext(engine, settings.secret_keys)
            installations.check_keys(engine, settings.secret_keys)
            print(f"encrypted {done.changed} plaintext token(s); "
                  f"{done.tokens - done.changed} were already encrypted")
        else:
            done = installations.rotate(engine, settings.secret_keys)
            print(f"re-encrypted {done.tokens} token(s) with the newest key"
                  + ("; the older keys in VOICEBOT_SECRET_KEY can now be removed"
                     if len(settings.secret_keys) > 1 else ""))
    finally:
        engine.dispose()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.terminal import render
    from bot.core.importing import parse_file

    services = _services(settings, args)
    sample = resources.files("bot") / "data" / "demo_quotes.csv"
    with resources.as_file(sample) as path:
        parsed = parse_file(path, team_id=DEMO_TEAM, captured_by="demo")
    bar = _Progress("loading sample", total=len(parsed.rows))
    summary = services.imports.import_quotes(parsed.rows, progress=bar.update)
    bar.close()
    print(f"Sample: added {summary.added}, already there {summary.duplicates} "
          f"(462 Banking77 customer messages, CC-BY-4.0)\n")
    topics = [" ".join(args.topic)] if args.topic else list(DEMO_TOPICS)
    for topic in topics:
        print("$ /voice " + topic)
        print(render(services.search.search(DEMO_TEAM, parse_query(topic), limit=3)))
    return 0


_FIELD_NAMES = {"speaker_name": "speaker", "speaker_user_id": "speaker id",
                "relayed_by": "relayed by", "captured_by": "captured by"}


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    import shlex

    from bot.cli.terminal import safe

    by = args.by if args.by is not None else _login_name()
    if not by.strip() or len(by) > 64:
        raise CliError("--by must name who is deleting, in at most 64 characters")
    services = _services(settings, args)
    team = _team(services, args.team)
    who = safe(repr(args.speaker))
    report = services.deletion.find_person(team, args.speaker)
    count = len(report.matches)
    if count:
        print(f"{count} quote{'s' * (count != 1)} in {team} name {who}:")
        for m in report.matches:
            fields = ", ".join(_FIELD_NAMES.get(f, f) for f in m.fields)
            print(f"  #{m.id}  {m.when:%Y-%m-%d}  {m.source_kind.replace('_', ' '):<14}"
                  f"  matched: {safe(fields)}")
    else:
        print(f"no quotes in {team} name {who}; nothing to delete")
    if report.text_mentions:
        n = report.text_mentions
        print(f"{n} {'quotes mention' if n != 1 else 'quote mentions'} this name inside "
              f"{'their' if n != 1 else 'its'} text and {'are' if n != 1 else 'is'} not "
              f"deleted; review with `voicebot search --text {safe(shlex.quote(args.speaker))}"
              f" --team {team} --limit 100`")
    if count == 0:
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(f"{count} quotes would be deleted; rerun with --yes to confirm")
        answer = input(f"Delete these {count} quotes? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            print("nothing deleted")
            return 1
    removed = services.deletion.forget_speaker(team, args.speaker, by=by)
    print(f"deleted {removed} quotes naming {who} (text, history, vectors, index); "
          f"an audit entry records the deletion by {safe(by)}")
    return 0


def _login_name() -> str:
    """Who runs the command, for the audit: the operating system's login name."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container without a passwd entry)
        import os

        return f"uid {os.getuid()}"


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from bot.core.digest import week_ending
    from bot.slack.views.digest import digest_text

    services = _services(settings, args)
    team = _team(services, args.team)
    ws = services.workspaces.get(team)
    if args.post:
        if args.week:
            raise CliError("--week is for --preview; --post always posts the due week")
        if not settings.slack_bot_token:
            raise CliError("posting needs SLACK_BOT_TOKEN")
        from bot.slack.app import make_delivery

        outcome = make_delivery(settings, services).post(team)
        print(f"digest for {team}: {outcome.status}" + (f" ({outcome.detail})"
                                                         if outcome.detail else ""))
        return 1 if outcome.status == "failed" else 0
    if args.week:
        try:
            day = datetime.strptime(args.week, "%Y-%m-%d")
        except ValueError:
            raise CliError(f"--week {args.week!r} is not a date (YYYY-MM-DD)") from None
        start = day.replace(tzinfo=ZoneInfo(ws.digest_timezone))
        end = start + timedelta(days=7)
    else:
        start, end = week_ending(ws, services.clock())
    data = services.digests.build(team, start.astimezone(timezone.utc),
                                  end.astimezone(timezone.utc),
                                  ws.digest_channel or "__preview__")
    print(digest_text(data))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import dataclasses

    from bot.server import serve

    settings.validate_for_serving()
    if settings.slack_client_id:  # stored tokens: encrypt leftovers, and the key must open them
        from bot.slack.installations import secure_stored_tokens
        from store import db

        engine = db.make_engine(settings.database_url)
        db.check_connection(engine)
        db.upgrade(settings.database_url)
        note = secure_stored_tokens(settings, engine)
        engine.dispose()
        if note:
            print(note, file=sys.stderr)
    # Serving encodes one short topic at a time: one torch thread per query is fastest and
    # leaves the other core to concurrent requests (bench/PERF.md, SearchService stages).
    settings = dataclasses.replace(settings, torch_threads=settings.torch_threads or 1)
    return serve(settings, port=args.port or settings.port, host=args.host)


class _Progress:
    """A tqdm bar on stderr that only appears when there is work to show."""

    def __init__(self, desc: str, total: int | None = None) -> None:
        self.desc, self._bar = desc, None
        if total:
            self.start(total)

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=self.desc, unit="quote", file=sys.stderr,
                         mininterval=0.5, leave=False)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()



