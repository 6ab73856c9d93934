"""The `voicebot` command line: :func:`main` parses the verb and runs it (see
:mod:`bot.cli.main`); :mod:`bot.cli.terminal` renders results for a terminal."""

from bot.cli.main import main

__all__ = ["main"]
