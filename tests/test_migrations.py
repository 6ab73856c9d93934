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


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_emotions_guessed_before_the_head_was_recorded_are_marked_for_a_new_guess(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The migration adding quotes.emotion_model marks the old head's guesses ('legacy'), so
    the shipped head guesses them again; a person's choice (an edit, or 1.0 at capture) and
    quotes without an emotion stay unmarked."""
    from sqlalchemy import text

    url = _fresh_url(kind, tmp_path, request)
    db.upgrade(url, "0007")
    engine = db.make_engine(url)
    rows = [(1, "delighted", None, 0.62), (2, "confused", "U1", 1.0),
            (3, "frustrated", None, 1.0), (4, None, None, None)]
    with engine.begin() as conn:
        for n, emotion, by, confidence in rows:
            conn.execute(text(
                "INSERT INTO quotes (id, team_id, text, source_kind, is_private, shareable, "
                "first_hand, captured_at, tags, emotion, emotion_by, emotion_confidence, "
                "dedupe_key, updated_at, is_excerpt, source_changed) VALUES (:id, 'T1', :t, "
                "'other', false, false, true, CURRENT_TIMESTAMP, '[]', :e, :by, :c, :k, "
                "CURRENT_TIMESTAMP, false, false)"),
                {"id": n, "t": f"quote {n}", "e": emotion, "by": by, "c": confidence,
                 "k": f"k{n}"})
    db.upgrade(url)
    with engine.connect() as conn:
        marked = dict(conn.execute(text("SELECT id, emotion_model FROM quotes")).all())
    assert marked == {1: "legacy", 2: None, 3: None, 4: None}
    db.downgrade(url, "0007")
    db.downgrade(url, "base")
    engine.dispose()
