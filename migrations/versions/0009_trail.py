"""trail: a quote use remembers the thread it went into, so a thread's evidence can be listed
and a quote shows where it was cited; topics asked about are remembered with how recent
their newest quote was (the digest's stale-evidence line); a workspace chooses when evidence
counts as old; channels where claims about users get an offer of their words, and the
offers made (one per thread, a daily cap per channel, "not helpful" counted)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 19:10:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
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
    op.create_table(
        'suggest_channels',
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('changed_by', sa.String(length=32), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('team_id', 'channel_id'),
    )
    op.create_table(
        'evidence_offers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('thread_ts', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('topic', sa.String(length=200), nullable=False),
        sa.Column('matches', sa.Integer(), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('team_id', 'channel_id', 'thread_ts', name='uq_offer_per_thread'),
    )
    op.create_index('ix_evidence_offers_channel_day', 'evidence_offers',
                    ['team_id', 'channel_id', 'offered_at'])


def downgrade() -> None:
    op.drop_index('ix_evidence_offers_channel_day', table_name='evidence_offers')
    op.drop_table('evidence_offers')
    op.drop_table('suggest_channels')
    op.drop_index('ix_topic_asks_team_id_asked_at', table_name='topic_asks')
    op.drop_table('topic_asks')
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('stale_months')
    with op.batch_alter_table('quote_uses', schema=None) as batch_op:
        batch_op.drop_index('ix_quote_uses_thread')
        batch_op.drop_column('thread_ts')
