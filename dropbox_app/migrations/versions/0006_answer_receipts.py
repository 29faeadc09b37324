"""reporter: answer receipts, keyed by the reporter's key (see models/receipts.py)

Revision ID: 0006_answer_receipts
Revises: 0005_guards
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_answer_receipts'
down_revision = '0005_guards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('answer_receipts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_receipts'))
    )


def downgrade() -> None:
    op.drop_table('answer_receipts')
