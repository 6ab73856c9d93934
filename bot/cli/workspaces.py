"""``teams``: the Slack workspaces the database knows, for choosing ``--team``."""

from __future__ import annotations

import argparse

from bot.cli.common import FIND_TEAM_ID
from bot.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's verbs to the ``voicebot`` parser."""
    p = sub.add_parser("teams", help="list the Slack workspaces the database knows",
                       description="List the workspaces the database knows (team id, name, "
                       "quote count): the id is what `--team` takes. voicebot learns a "
                       "workspace's name when `voicebot serve` connects to it.")
    p.set_defaults(func=cmd_teams)


def cmd_teams(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.terminal import safe
    from bot.core.workspaces import WorkspaceService
    from store import db

    engine = db.make_engine(settings.database_url)
    try:
        db.check_connection(engine)
        db.upgrade(settings.database_url)
        known = WorkspaceService(db.make_session_factory(engine),
                                 settings.capture_emoji).known()
    finally:
        engine.dispose()
    if not known:
        print("No workspace yet. `voicebot serve` records yours when it connects to Slack; "
              f"to import before that, pass --team with your team id: {FIND_TEAM_ID}.")
        return 0
    width = max(len(w.team_id) for w in known)
    for w in known:
        quotes = f"{w.quotes:,} quote{'s' * (w.quotes != 1)}"
        print(f"{safe(w.team_id):<{width}}  {quotes:>14}  {safe(w.name or '(name unknown)')}")
    return 0
