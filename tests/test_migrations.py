"""Alembic migrations run up and down on SQLite and on PostgreSQL, and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from store import db
from store.models import Base
from store.slack_tables import slack_metadata


def _fresh_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    url = request.getfixturevalue("postgres_url")
    db.downgrade(url, "base") if db.is_current(db.make_engine(url)) else None
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_upgrade_downgrade_roundtrip(kind: str, tmp_path: Path,
                                     request: pytest.FixtureRequest) -> None:
    url = _fresh_url(kind, tmp_path, request)
    engine = db.make_engine(url)
    db.upgrade(url)
    tables = set(inspect(engine).get_table_names())
    assert {"quotes", "quote_revisions", "workspaces", "quote_uses", "digest_claims",
            "audit_log", "slack_installations", "slack_bots", "slack_oauth_states",
            "alembic_version"} <= tables
    assert db.is_current(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn),
                                [Base.metadata, slack_metadata()])  # type: ignore[arg-type]
    assert diff == [], f"models and migrations disagree: {diff}"
    db.downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(url)  # and up again, as a deploy after a rollback would
    assert db.is_current(engine)
    engine.dispose()
