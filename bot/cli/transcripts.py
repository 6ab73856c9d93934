"""``voicebot import`` of an interview transcript (.vtt, .srt, .txt or ``--format``)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from bot.cli.common import CliError, import_team, run_by, services_for
from bot.config import Settings


def transcript_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.transcript_imports import (
        SpeakerChoiceError,
        TranscriptOptions,
        choose_users,
        to_quotes,
    )
    from bot.core.transcripts import TranscriptError, read

    path = Path(args.file)
    said_at = _said_at(args.said_at)
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CliError(f"{path}: line {line} is not UTF-8; save the transcript as UTF-8 and "
                       "import it again. Nothing was imported.") from None
    try:
        transcript = read(path, text, args.format)
        users = choose_users(transcript, interviewers=args.interviewer, speakers=args.speaker)
    except (TranscriptError, SpeakerChoiceError) as exc:
        raise CliError(str(exc)) from None
    services = services_for(settings, args)
    team = import_team(services, args.team)
    options = TranscriptOptions(team_id=team, company=args.company, segment=args.segment,
                                said_at=said_at, recording_url=args.recording_url)
    quotes = to_quotes(path, transcript, users, options)
    run = services.import_log.begin(team, kind="transcript", file_name=path.name,
                                    by=run_by(args))
    summary = services.transcripts.import_quotes(quotes, run=run)
    services.import_log.finish(run, added=summary.added, updated=summary.updated,
                               unchanged=summary.unchanged)
    others = sorted(set(transcript.speakers()) - users)
    print(f"{transcript.format} transcript: {len(quotes)} passages from "
          f"{', '.join(sorted(users))}" + (f" (not quoted: {', '.join(others)})" if others
                                           else ""), file=sys.stderr)
    print(f"added {summary.added}, updated {summary.updated}, unchanged {summary.unchanged} "
          f"(team {team}, import #{run.id})")
    return 0


def _said_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--said-at {value!r} is not a date (use YYYY-MM-DD or ISO 8601)") \
            from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
