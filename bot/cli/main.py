"""The `voicebot` command line: one verb per job, in modules by family (``quotes``,
``people``, ``digest``, ``admin``). Errors are one line and a non-zero exit."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot import __version__
from bot.cli import admin, digest, imports, model, people, quotes, workspaces
from bot.cli.common import CliError
from bot.cli.quotes import DEMO_TEAM
from bot.config import ConfigError, Settings
from bot.logs import configure_logging

log = logging.getLogger("voicebot")

__all__ = ["main", "build_parser", "CliError", "DEMO_TEAM"]


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
        status = int(args.func(args, settings) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except (ConfigError, CliError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `voicebot search --json | head`: the reader stopped reading
        _silence_stdout()
        return 141  # as a process ended by SIGPIPE
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced by something without a descriptor
        pass
    finally:
        os.close(devnull)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicebot",
        description="Keep users' verbatim words in the room where priorities are argued.",
        epilog="Configuration comes from environment variables; see README.md.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action="version", version=f"voicebot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for verbs in (quotes, imports, people, digest, workspaces, admin, model):
        verbs.register(sub)
    return parser
