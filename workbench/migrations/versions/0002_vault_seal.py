"""the seal over the vault's trust records (workbench/trust.py)

The table only; the seal itself is written at the first unlock by a member (vault.py), which
holds the vault key this revision does not have.

Revision ID: 0002_vault_seal
Revises: 0001_before_migrations
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_vault_seal'
down_revision = '0001_before_migrations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('vault_seal',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('vault_seal')
