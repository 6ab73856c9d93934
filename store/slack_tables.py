"""slack-sdk's OAuth installation and state tables, so Alembic owns them too.

``SQLAlchemyInstallationStore`` and ``SQLAlchemyOAuthStateStore`` define their own tables;
building them on a separate MetaData here lets migrations create them and lets
autogenerate see them (instead of proposing to drop them).

The token columns are wider than slack-sdk's ``String(200)`` (migration 0006): voicebot
stores tokens encrypted (``bot/slack/installations.py``), and a Fernet token of a ~150-character
rotating Slack token is about 300 characters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, MetaData, String, Table

BOTS_TABLE = "slack_bots"
INSTALLATIONS_TABLE = "slack_installations"
STATES_TABLE = "slack_oauth_states"

#: Columns that hold a secret token, in either installation table.
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
TOKEN_WIDTH = 1000


def slack_metadata() -> MetaData:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    metadata = MetaData()
    for table in (SQLAlchemyInstallationStore.build_installations_table(metadata,
                                                                         INSTALLATIONS_TABLE),
                  SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE)):
        for column in token_columns(table):
            column.type = String(TOKEN_WIDTH)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE)
    return metadata


def token_columns(table: Table) -> list[Column[Any]]:
    return [table.c[name] for name in TOKEN_COLUMNS if name in table.c]
