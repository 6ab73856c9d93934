"""trust: excerpt tracking, settings role, Slack Connect sharing, request receipts,
pending shortcut captures

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:40:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_excerpt', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('source_changed', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings_role', sa.String(length=16), server_default='admins', nullable=False))
        batch_op.add_column(sa.Column('connect_share_own', sa.Boolean(), server_default='0', nullable=False))
    op.create_table('request_receipts',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_request_receipts'))
    )
    with op.batch_alter_table('request_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_request_receipts_expires_at', ['expires_at'], unique=False)
    op.create_table('pending_captures',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_pending_captures'))
    )
    with op.batch_alter_table('pending_captures', schema=None) as batch_op:
        batch_op.create_index('ix_pending_captures_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_captures', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_captures_expires_at')
    op.drop_table('pending_captures')
    with op.batch_alter_table('request_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_request_receipts_expires_at')
    op.drop_table('request_receipts')
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('connect_share_own')
        batch_op.drop_column('settings_role')
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_column('source_changed')
        batch_op.drop_column('is_excerpt')
