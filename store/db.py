"""Engine and session factory; schema upgrades through Alembic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

from store.errors import DatabaseUnavailable, QueryFailed, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

P = ParamSpec("P")
R = TypeVar("R")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: SQLite page cache per pooled connection, in KiB. SQLite's default is 2 MiB per
#: connection, and the pool keeps up to 15 (5 + 10 overflow) for a busy server: up to
#: 30 MiB of resident memory that fills slowly as the database grows (bench/LOAD.md). The
#: operating system caches the file as well, so a smaller per-connection cache costs little.
SQLITE_CACHE_KIB = 512


#: The databases voicebot runs on (the tests run both).
SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"DATABASE_URL is not a database URL: {url!r}") from exc
    if parsed.drivername in {"postgresql", "postgres"}:  # postgres:// as Heroku & co write it
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername.startswith("postgres+"):
        parsed = parsed.set(drivername="postgresql+" + parsed.drivername.split("+", 1)[1])
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise StoreError(
            f"DATABASE_URL: {parsed.drivername}:// databases are not supported; use "
            "sqlite:///path/to/voicebot.db or postgresql://user:password@host:5432/name")
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    else:
        kwargs.setdefault("pool_pre_ping", True)
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:  # a driver that is not installed
        raise StoreError(f"DATABASE_URL: the driver for {parsed.drivername}:// is not "
                         "installed; use postgresql:// (psycopg 3) or sqlite:///") from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def display_url(url: str) -> str:
    """``url`` as it may be shown or logged: the password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # negative: KiB, not pages
    cur.close()


def db_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator for methods of objects holding ``sessions`` (or ``engine``): database errors
    become store errors that say what happened.

    An OperationalError is an outage only when the database does not answer ``SELECT 1``
    through the same engine: SQLite also raises it for a statement that is merely too
    complex ("Expression tree is too large", "LIKE or GLOB pattern too complex"). A query
    the database refused while up, and a value it cannot hold (a DataError, such as a NUL in
    PostgreSQL text or an integer out of range), raise :class:`QueryFailed`.
    """
    import functools

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            reason = _reason(exc)
            engine = _engine_of(args[0]) if args else None
            busy = "locked" in reason.lower() or "busy" in reason.lower()  # worth a retry
            if not busy and engine is not None and _answers(engine):
                raise QueryFailed(f"the database refused the query: {reason}") from exc
            raise DatabaseUnavailable(f"the database is unavailable: {reason}") from exc
        except DataError as exc:
            raise QueryFailed(f"the database refused a value: {_reason(exc)}") from exc

    return wrapper


def _reason(exc: DBAPIError) -> str:
    text = str(exc.orig).strip() if exc.orig else str(exc)
    return (text.splitlines() or [""])[0][:300]


def _engine_of(owner: object) -> Engine | None:
    """The engine behind a service (``.engine``, or the bind of its ``.sessions`` factory)."""
    engine = getattr(owner, "engine", None)
    if isinstance(engine, Engine):
        return engine
    sessions = getattr(owner, "sessions", None)
    bind = getattr(sessions, "kw", {}).get("bind") if sessions is not None else None
    return bind if isinstance(bind, Engine) else None


def _answers(engine: Engine) -> bool:
    """True when the database answers ``SELECT 1`` now."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure here means it is not answering
        return False
    return True


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailable` with a readable reason when the DB is unreachable."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}"
        ) from exc


def alembic_config(url: str) -> Config:
    """An Alembic Config pointing at the bundled migrations and ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (``alembic upgrade head``)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def is_current(engine: Engine) -> bool:
    """True when the database schema is at the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == set(script.get_heads())
