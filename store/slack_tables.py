"""slack-sdk's OAuth installation and state tables, so Alembic owns them too.

``SQLAlchemyInstallationStore`` and ``SQLAlchemyOAuthStateStore`` define their own tables;
building them on a separate MetaData here lets migrations create them and lets
autogenerate see them (instead of proposing to drop them).
"""

from __future__ import annotations

from sqlalchemy import MetaData

BOTS_TABLE = "slack_bots"
INSTALLATIONS_TABLE = "slack_installations"
STATES_TABLE = "slack_oauth_states"


def slack_metadata() -> MetaData:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    metadata = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE)
    SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE)
    return metadata
