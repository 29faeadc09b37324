"""reporter: no hour in clear, one kind for every submission

Sessions and throttle counters carried the hour (``purge_hour``); they now carry the day their
row may go (``purge_day``). Both tables hold only short-lived rows (a session lives two hours at
most, a throttle window one), so they are emptied rather than converted: an upgrade logs reporters
out and forgets the current hour's failed logins, and no hour value survives in the new rows.
Every submission row gets the one kind ``submission``: the real kind travels only inside the
envelope (docs/engineering.md).

Revision ID: 0004_day_level
Revises: 0003_admin_log
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_day_level'
down_revision = '0003_admin_log'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM sessions")
    op.execute("DELETE FROM throttles")
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_purge_hour'))
        batch_op.drop_column('purge_hour')
        batch_op.add_column(sa.Column('purge_day', sa.String(length=10), nullable=False))
        batch_op.create_index(batch_op.f('ix_sessions_purge_day'), ['purge_day'], unique=False)
    with op.batch_alter_table('throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttles_purge_hour'))
        batch_op.drop_column('purge_hour')
        batch_op.add_column(sa.Column('purge_day', sa.String(length=10), nullable=False))
        batch_op.create_index(batch_op.f('ix_throttles_purge_day'), ['purge_day'], unique=False)
    op.execute("UPDATE submissions SET kind = 'submission'")


def downgrade() -> None:
    # The real kinds are inside the envelopes, which the server cannot open: they stay
    # ``submission``.
    op.execute("DELETE FROM sessions")
    op.execute("DELETE FROM throttles")
    with op.batch_alter_table('throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttles_purge_day'))
        batch_op.drop_column('purge_day')
        batch_op.add_column(sa.Column('purge_hour', sa.Integer(), nullable=False))
        batch_op.create_index(batch_op.f('ix_throttles_purge_hour'), ['purge_hour'], unique=False)
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_purge_day'))
        batch_op.drop_column('purge_day')
        batch_op.add_column(sa.Column('purge_hour', sa.Integer(), nullable=False))
        batch_op.create_index(batch_op.f('ix_sessions_purge_hour'), ['purge_hour'], unique=False)
