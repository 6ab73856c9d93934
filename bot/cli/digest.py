"""``digest``: preview a week's digest, or post the due one once."""

from __future__ import annotations

import argparse
import logging

from bot.cli.common import CliError, services_for, team_of
from bot.config import Settings

log = logging.getLogger("voicebot")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's verbs to the ``voicebot`` parser."""
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


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from bot.core.digest import week_ending
    from bot.slack.views.digest import digest_text

    services = services_for(settings, args)
    team = team_of(services, args.team)
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
                                  ws.digest_channel or "__preview__",
                                  stale_months=ws.stale_months)
    print(digest_text(data))
    return 0
