"""gateway: the hash-chained admin log and its head

Revision ID: 0003_admin_log
Revises: 0002_gateway
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_admin_log'
down_revision = '0002_gateway'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_log',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('entry', sa.LargeBinary(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_admin_log'))
    )
    head = op.create_table('admin_log_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_log_head'))
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    op.drop_table('admin_log_head')
    op.drop_table('admin_log')
