"""emotion: each guessed emotion records which emotion head guessed it, so that a new head
guesses again (an emotion a person chose records none and is kept)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 19:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emotion_model', sa.String(length=32), nullable=True))
    # Emotions guessed before this column existed came from the previous head: mark them so
    # that the current head guesses them again. A person's choice has confidence 1.0 (at
    # capture) or emotion_by (an edit) and stays unmarked.
    quotes = sa.table('quotes', sa.column('emotion', sa.String),
                      sa.column('emotion_by', sa.String),
                      sa.column('emotion_confidence', sa.Float),
                      sa.column('emotion_model', sa.String))
    op.execute(quotes.update().where(
        quotes.c.emotion.is_not(None), quotes.c.emotion_by.is_(None),
        sa.or_(quotes.c.emotion_confidence.is_(None), quotes.c.emotion_confidence < 1.0),
    ).values(emotion_model='legacy'))


def downgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_column('emotion_model')
