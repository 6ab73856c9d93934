"""deferred captures: capture reactions that came while every capture worker was busy, kept
until a worker has room (a flood neither grows the server's memory nor loses a capture)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 22:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deferred_captures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('message_ts', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deferred_captures')),
    )


def downgrade() -> None:
    op.drop_table('deferred_captures')
