"""desk: a quote imported from a support-desk export whose comment was HTML (Intercom, Help
Scout) keeps that comment's original HTML for audit; its words are a passage of the text
converted from it (see bot/core/desk/)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_html', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_column('source_html')
