"""trail: a quote use remembers the thread it went into, so a thread's evidence can be listed
and a quote shows where it was cited

Revision ID: trail
Revises: 0007
Create Date: 2026-11-30 19:10:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = 'trail'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quote_uses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_ts', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_quote_uses_thread', ['team_id', 'channel_id', 'thread_ts'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quote_uses', schema=None) as batch_op:
        batch_op.drop_index('ix_quote_uses_thread')
        batch_op.drop_column('thread_ts')
