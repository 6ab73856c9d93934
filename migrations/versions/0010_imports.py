"""imports: every import run is recorded (file, kind, who, when, counts); quotes keep the
import that added them, and the quotes an import updated keep their earlier attribution,
so `voicebot imports undo` can take an import back

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 19:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('run_by', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('added', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('rejected', sa.Integer(), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('undone_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imports')),
    )
    op.create_index('ix_imports_team_id_id', 'imports', ['team_id', 'id'], unique=False)
    op.create_table(
        'import_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('quote_id', sa.Integer(), nullable=False),
        sa.Column('previous', sa.JSON(), nullable=False),
        sa.Column('key_after', sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['imports.id'],
                                name=op.f('fk_import_updates_import_id_imports'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'],
                                name=op.f('fk_import_updates_quote_id_quotes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_updates')),
    )
    op.create_index(op.f('ix_import_updates_import_id'), 'import_updates', ['import_id'],
                    unique=False)
    op.create_index(op.f('ix_import_updates_quote_id'), 'import_updates', ['quote_id'],
                    unique=False)
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_quotes_import_id', ['import_id'], unique=False)
        batch_op.create_foreign_key('fk_quotes_import_id_imports', 'imports', ['import_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_constraint('fk_quotes_import_id_imports', type_='foreignkey')
        batch_op.drop_index('ix_quotes_import_id')
        batch_op.drop_column('import_id')
    op.drop_index(op.f('ix_import_updates_quote_id'), table_name='import_updates')
    op.drop_index(op.f('ix_import_updates_import_id'), table_name='import_updates')
    op.drop_table('import_updates')
    op.drop_index('ix_imports_team_id_id', table_name='imports')
    op.drop_table('imports')
