"""voice id for near-duplicate quotes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 04:57:52.834997
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voice_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_quotes_voice_id'), ['voice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quotes_voice_id'))
        batch_op.drop_column('voice_id')

