"""quotes, revisions, workspaces, quote uses

Revision ID: 0001
Revises:
Create Date: 2026-11-26 03:53:23.844759
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('speaker_name', sa.String(length=255), nullable=True),
    sa.Column('speaker_user_id', sa.String(length=32), nullable=True),
    sa.Column('speaker_team_id', sa.String(length=32), nullable=True),
    sa.Column('company', sa.String(length=255), nullable=True),
    sa.Column('segment', sa.String(length=255), nullable=True),
    sa.Column('source_kind', sa.String(length=32), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('is_private', sa.Boolean(), nullable=False),
    sa.Column('shareable', sa.Boolean(), nullable=False),
    sa.Column('first_hand', sa.Boolean(), nullable=False),
    sa.Column('relayed_by', sa.String(length=255), nullable=True),
    sa.Column('captured_by', sa.String(length=64), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('said_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('emotion', sa.String(length=16), nullable=True),
    sa.Column('emotion_confidence', sa.Float(), nullable=True),
    sa.Column('emotion_by', sa.String(length=64), nullable=True),
    sa.Column('embedding', sa.LargeBinary(), nullable=True),
    sa.Column('embedding_model', sa.String(length=255), nullable=True),
    sa.Column('dedupe_key', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
    sa.UniqueConstraint('team_id', 'channel_id', 'message_ts', name=op.f('uq_quotes_team_id_channel_id_message_ts')),
    sa.UniqueConstraint('team_id', 'dedupe_key', name=op.f('uq_quotes_team_id_dedupe_key'))
    )
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_team_id'), ['team_id'], unique=False)
        batch_op.create_index('ix_quotes_team_id_updated_at', ['team_id', 'updated_at'], unique=False)

    op.create_table('workspaces',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('capture_emoji', sa.String(length=100), nullable=True),
    sa.Column('digest_channel', sa.String(length=32), nullable=True),
    sa.Column('digest_weekday', sa.Integer(), nullable=False),
    sa.Column('digest_time', sa.String(length=5), nullable=False),
    sa.Column('digest_timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_workspaces'))
    )
    op.create_table('quote_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_revisions_quote_id_quotes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_revisions'))
    )
    with op.batch_alter_table('quote_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_revisions_quote_id'), ['quote_id'], unique=False)

    op.create_table('quote_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_uses_quote_id_quotes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_uses'))
    )
    with op.batch_alter_table('quote_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_uses_quote_id'), ['quote_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_uses_team_id'), ['team_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quote_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_uses_team_id'))
        batch_op.drop_index(batch_op.f('ix_quote_uses_quote_id'))

    op.drop_table('quote_uses')
    with op.batch_alter_table('quote_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_revisions_quote_id'))

    op.drop_table('quote_revisions')
    op.drop_table('workspaces')
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_index('ix_quotes_team_id_updated_at')
        batch_op.drop_index(batch_op.f('ix_quotes_team_id'))

    op.drop_table('quotes')
