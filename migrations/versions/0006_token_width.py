"""token width: room for encrypted Slack tokens in slack-sdk's installation tables

voicebot stores bot, user and refresh tokens encrypted (Fernet, bot/installations.py). A
Fernet token of a long rotating Slack token (``xoxe.xoxp-...``, ~150 characters) is about
300 characters, more than slack-sdk's String(200). This migration only widens the columns:
encrypting rows stored before needs VOICEBOT_SECRET_KEY, which migrations do not read;
``voicebot db upgrade`` and ``voicebot serve`` encrypt them right after upgrading when the
key is set (or ``voicebot secrets encrypt`` does).

Downgrading narrows the columns back; on PostgreSQL that fails while encrypted tokens are
stored (they do not fit), which is the right outcome: code before 0006 cannot read them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TOKENS = {
    'slack_bots': ('bot_token', 'bot_refresh_token'),
    'slack_installations': ('bot_token', 'bot_refresh_token', 'user_token', 'user_refresh_token'),
}


def upgrade() -> None:
    for table, columns in TOKENS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.String(length=200),
                                      type_=sa.String(length=1000), existing_nullable=True)


def downgrade() -> None:
    for table, columns in TOKENS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.String(length=1000),
                                      type_=sa.String(length=200), existing_nullable=True)
