"""assignment and recusal of cases (workbench/cases/access.py)

Two tables, empty in an upgraded vault (every case open to every content member, as before).
Both are covered by the vault's seal once they hold rows (workbench/trust.py, ACCESS_TABLES).

Revision ID: 0003_case_access
Revises: 0002_vault_seal
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_case_access'
down_revision = '0002_vault_seal'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A vault from before the case tables gets them from create_all afterwards, with these.
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if 'cases' not in tables:
        return
    if 'case_assignments' not in tables:
        op.create_table('case_assignments',
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('cases.id'), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('by', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('case_id', 'key_id')
        )
    if 'case_recusals' not in tables:
        op.create_table('case_recusals',
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('cases.id'), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint('case_id', 'key_id')
        )


def downgrade() -> None:
    op.drop_table('case_recusals')
    op.drop_table('case_assignments')
