"""trail: a quote use remembers the thread it went into, so a thread's evidence can be listed
and a quote shows where it was cited; topics asked about are remembered with how recent
their newest quote was (the digest's stale-evidence line); a workspace chooses when evidence
counts as old

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
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stale_months', sa.Integer(), nullable=False,
                                      server_default='6'))
    op.create_table(
        'topic_asks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=True),
        sa.Column('public', sa.Boolean(), nullable=False),
        sa.Column('topic', sa.String(length=200), nullable=False),
        sa.Column('matches', sa.Integer(), nullable=False),
        sa.Column('newest_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_topic_asks_team_id_asked_at', 'topic_asks', ['team_id', 'asked_at'])


def downgrade() -> None:
    op.drop_index('ix_topic_asks_team_id_asked_at', table_name='topic_asks')
    op.drop_table('topic_asks')
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('stale_months')
    with op.batch_alter_table('quote_uses', schema=None) as batch_op:
        batch_op.drop_index('ix_quote_uses_thread')
        batch_op.drop_column('thread_ts')
