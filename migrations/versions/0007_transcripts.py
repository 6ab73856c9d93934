"""transcripts: quotes imported from interview transcripts keep which transcript they came
from, where the passage starts in the recording and its offsets in the speaker's words

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transcript_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('start_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('char_start', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('char_end', sa.Integer(), nullable=True))
        batch_op.create_index('ix_quotes_transcript_key', ['transcript_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_index('ix_quotes_transcript_key')
        batch_op.drop_column('char_end')
        batch_op.drop_column('char_start')
        batch_op.drop_column('start_seconds')
        batch_op.drop_column('transcript_key')
