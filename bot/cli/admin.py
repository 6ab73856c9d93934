"""Running and maintaining voicebot: ``serve``, ``db``, ``reindex``, ``secrets``."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli.common import CliError, Progress, services_for
from bot.config import Settings

log = logging.getLogger("voicebot")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's verbs to the ``voicebot`` parser."""
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

    p = sub.add_parser("serve", help="run the Slack bot",
                       description="Run the bot: Socket Mode when SLACK_APP_TOKEN is set, "
                       "otherwise HTTP on --port with POST /slack/events and GET /healthz.")
    p.add_argument("--port", type=int, help="HTTP port (default $PORT or 3000)")
    p.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    p.set_defaults(func=cmd_serve)


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    services = services_for(settings, args)
    if args.all:
        total = services.lookup.count()
        bar = Progress("re-embedding", total=total)
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
        if not db.is_current(engine):  # non-zero, so scripts can use it
            print("needs `voicebot db upgrade`")
            return 1
        print("up to date")
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

def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import dataclasses

    from bot.slack.startup import SlackStartError, check_tokens

    settings.validate_for_serving()
    try:  # before the model's libraries load: a wrong token is told in a second
        identity = check_tokens(settings)
    except SlackStartError as exc:  # which call failed and what to check, on one line
        raise CliError(str(exc)) from None
    from bot.server import serve  # loads the model's libraries: after the quick checks

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
    return serve(settings, port=args.port or settings.port, host=args.host, identity=identity)
