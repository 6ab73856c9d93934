"""an index for the private quotes a channel may not see (store.policy.hidden_clause): the
look-up runs before every /voice answer in a channel and was a scan of the team's quotes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 03:50:00
"""
from __future__ import annotations

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_quotes_team_id_private', 'quotes',
                    ['team_id', 'is_private', 'shareable', 'channel_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_quotes_team_id_private', table_name='quotes')
