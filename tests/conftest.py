"""Shared fixtures: real SQLite and real PostgreSQL databases built by the Alembic migrations.

PostgreSQL comes from ``VOICEBOT_TEST_POSTGRES_URL`` (default: the local server,
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each test session creates its own
database there and drops it at the end. Set the variable to an empty string to skip the
PostgreSQL variants explicitly; an unreachable server is an error, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings
from store import db
from store.models import Base
from store.retrieval.embeddings import HashingEmbedder
from tests.fakes.clock import FakeClock

pytest_plugins = ["tests.slack_harness"]  # the `bot` fixture: the app served over HTTP

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TIMESHIFT = Path(__file__).resolve().parent / "timeshift"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shift-days", type=float, default=None, metavar="N",
        help="run every test (and the Python subprocesses tests start) with the clock moved "
             "N days ahead, to find tests that depend on today's date")


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("--shift-days")
    if days:
        os.environ["VOICEBOT_TEST_SHIFT_DAYS"] = str(days)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(TIMESHIFT), os.environ.get("PYTHONPATH")) if p)
        import importlib.util
        import sys

        spec = importlib.util.spec_from_file_location("_voicebot_timeshift",
                                                      TIMESHIFT / "sitecustomize.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)


def pg_admin_url() -> str | None:
    url = os.environ.get("VOICEBOT_TEST_POSTGRES_URL", DEFAULT_PG)
    return url or None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    admin = pg_admin_url()
    if admin is None:
        pytest.skip("VOICEBOT_TEST_POSTGRES_URL is empty: PostgreSQL variants disabled")
    name = f"voicebot_test_{uuid.uuid4().hex[:10]}"
    admin_engine = db.make_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - fail loudly with the reason
        pytest.fail(f"PostgreSQL at {admin} is not reachable ({exc}); start it with "
                    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
                    " or set VOICEBOT_TEST_POSTGRES_URL", pytrace=False)
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str) -> str:
    db.upgrade(postgres_url)
    return postgres_url


def wipe(url: str) -> None:
    """Delete every row the app wrote (the schema stays)."""
    engine = db.make_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def clean_postgres(migrated_postgres: str) -> Iterator[str]:
    """The session's migrated PostgreSQL database, emptied again after the test."""
    yield migrated_postgres
    wipe(migrated_postgres)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'voicebot.db'}"
        db.upgrade(url)
        yield url
        return
    yield request.getfixturevalue("clean_postgres")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'voicebot.db'}"
    db.upgrade(url)
    return url


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def clock() -> FakeClock:
    """The application's clock in tests: fixed at TEST_NOW until a test moves it."""
    return FakeClock()


@pytest.fixture
def make_services(embedder: HashingEmbedder, clock: FakeClock):  # type: ignore[no-untyped-def]
    """Build Services for a database URL with the deterministic test embedder and clock."""
    from bot.container import build_services

    built = []

    def make(url: str, **kwargs):  # type: ignore[no-untyped-def]
        settings = Settings(database_url=url)
        services = build_services(settings, embedder=kwargs.pop("embedder", embedder),
                                  clock=kwargs.pop("clock", clock), **kwargs)
        built.append(services)
        return services

    yield make
    for services in built:
        services.close()


@pytest.fixture
def services(make_services, database_url: str):  # type: ignore[no-untyped-def]
    return make_services(database_url)
