"""acknowledgments per recipient group

``submission_acks`` records which groups acknowledged a submission (dropbox_app/gateway/acks.py).
Submissions acknowledged before it keep their ``acked_day`` and need no rows; the others wait
for every group with an active card.

Revision ID: 0009_submission_acks
Revises: 0008_recipient_groups
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_submission_acks'
down_revision = '0008_recipient_groups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('submission_acks',
    sa.Column('submission_id', sa.String(length=32), nullable=False),
    sa.Column('recipient_group', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('submission_id', 'recipient_group')
    )


def downgrade() -> None:
    op.drop_table('submission_acks')
