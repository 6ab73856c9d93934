"""What every verb shares: one-line errors, the services, the workspace, progress bars."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.config import Settings

if TYPE_CHECKING:  # the container loads the model's libraries; imported when used
    from bot.container import Services


#: Where a newcomer finds their Slack team id (both places show it).
FIND_TEAM_ID = ("voicebot's App Home in Slack shows it (Workspace id), and so does "
                "`/voice help`")


class CliError(Exception):
    """A problem to report on one line, with exit status 1."""


def services_for(settings: Settings, args: argparse.Namespace) -> Services:
    """Build the services (migrating, loading the model), with a progress bar for any
    re-embedding a model change needs."""
    from bot.container import build_services

    bar = Progress("re-embedding for the configured model")
    services = build_services(settings, embedder=args.embedder, progress=bar.update,
                              on_reembed_start=bar.start)
    bar.close()
    return services


def team_of(services: Services, team: str | None) -> str:
    """``--team``, or the one workspace the store knows."""
    if team:
        return team
    known = services.lookup.teams()
    if len(known) == 1:
        return known[0]
    if not known:
        raise CliError(f"the store has no workspace yet; pass --team T (your Slack team id: "
                       f"{FIND_TEAM_ID})")
    shown = ", ".join(known[:5]) + (f", and {len(known) - 5} more" if len(known) > 5 else "")
    raise CliError(f"the store holds {len(known)} workspaces ({shown}); "
                   "pass --team (`voicebot teams` lists them)")


def run_by(args: argparse.Namespace) -> str:
    """Who runs an import or an undo: ``--by``, else the operating-system user."""
    import getpass

    if getattr(args, "by", None):
        return str(args.by)
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "unknown"


def import_team(services: Services, team: str | None) -> str:
    """The workspace an import goes to: ``--team``, or the store's only one."""
    if team:
        return team
    known = services.lookup.teams()
    if len(known) == 1:
        return known[0]
    if known:
        raise CliError(f"pass --team T: the workspace these quotes belong to (the store knows "
                       f"{len(known)}; `voicebot teams` lists them)")
    raise CliError("pass --team T: the Slack workspace these quotes belong to. The store "
                   f"knows none yet: {FIND_TEAM_ID}. Quotes imported under another id never "
                   "appear in Slack.")


class Progress:
    """A tqdm bar on stderr that only appears when there is work to show."""

    def __init__(self, desc: str, total: int | None = None) -> None:
        self.desc, self._bar = desc, None
        if total:
            self.start(total)

    def start(self, total: int) -> None:
        from tqdm import tqdm

        from bot.logs import progress_bars

        self._bar = tqdm(total=total, desc=self.desc, unit="quote", file=sys.stderr,
                         mininterval=0.5, leave=False, disable=not progress_bars())

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def note_if_no_quotes(services: Services, team: str) -> None:
    """On stderr, when a command found nothing because the workspace has no quotes at all
    (often a mistyped --team; the command's own answer stays what it was)."""
    if team not in services.lookup.teams():
        print(f"note: workspace {team!r} has no quotes yet; `voicebot teams` lists the "
              "workspaces that have some", file=sys.stderr)
