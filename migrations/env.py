"""Alembic environment: the URL comes from the Alembic config when set programmatically
(``store.db.upgrade``), otherwise from voicebot's settings (``DATABASE_URL``)."""

from __future__ import annotations

from alembic import context

from store.db import make_engine
from store.models import Base
from store.slack_tables import slack_metadata

config = context.config
target_metadata = [Base.metadata, slack_metadata()]


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.config import database_url_from_env

    return database_url_from_env()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
