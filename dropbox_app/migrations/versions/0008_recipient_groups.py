"""recipient groups: auditor cards name their group; reports keep a sealed route

``auditor_cards.recipient_group`` is "inspectorate" for every card enrolled so far;
``reports.route`` is NULL for reports filed so far (they were all sealed to the auditors).

Revision ID: 0008_recipient_groups
Revises: 0007_sealed_totp
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_recipient_groups'
down_revision = '0007_sealed_totp'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('auditor_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_group', sa.String(length=16), nullable=False,
                                      server_default='inspectorate'))
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('route', sa.LargeBinary(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('route')
    with op.batch_alter_table('auditor_cards', schema=None) as batch_op:
        batch_op.drop_column('recipient_group')
