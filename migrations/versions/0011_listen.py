"""listen: channels where an admin turned listening on (external members' messages are kept
as quotes), who turned it on or off and when, and when the channel was told

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 19:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'listening_channels',
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('changed_by', sa.String(length=32), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('team_id', 'channel_id', name=op.f('pk_listening_channels')),
    )


def downgrade() -> None:
    op.drop_table('listening_channels')
