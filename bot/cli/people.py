"""``forget``: a deletion request for one person, listed before it is carried out."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli.common import CliError, note_if_no_quotes, services_for, team_of
from bot.config import Settings

log = logging.getLogger("voicebot")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's verbs to the ``voicebot`` parser."""
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


_FIELD_NAMES = {"speaker_name": "speaker", "speaker_user_id": "speaker id",
                "relayed_by": "relayed by", "captured_by": "captured by"}


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    import shlex

    from bot.cli.terminal import safe

    by = args.by if args.by is not None else _login_name()
    if not by.strip() or len(by) > 64:
        raise CliError("--by must name who is deleting, in at most 64 characters")
    services = services_for(settings, args)
    team = team_of(services, args.team)
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
        note_if_no_quotes(services, team)
        return 0
    if not args.yes:
        if not sys.stdin.isatty():  # no one to ask: a dry run
            print(f"dry run: nothing deleted; {count} quote{'s' * (count != 1)} would be "
                  "deleted. Rerun with --yes to delete "
                  f"{'them' if count != 1 else 'it'}.")
            return 0
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
