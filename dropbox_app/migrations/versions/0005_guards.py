"""reporter: one report per codename, and the daily count of failed codename logins

``reports.reporter_id`` becomes unique: a codename files one report (later words are messages on
it), and the database now holds to that when copies of the first report arrive at once. A
database where the race already made two reports for one codename cannot take the constraint:
the upgrade stops and names how many there are, to be looked at by hand.

``login_failure_days`` holds a day and a count: the gateway's admin page shows it, and each
finished day's count goes into the admin log.

Revision ID: 0005_guards
Revises: 0004_day_level
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_guards'
down_revision = '0004_day_level'
branch_labels = None
depends_on = None


def upgrade() -> None:
    twice = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM (SELECT reporter_id FROM reports GROUP BY reporter_id "
        "HAVING COUNT(*) > 1) AS d")).scalar()
    if twice:
        raise RuntimeError(f"{twice} codename(s) have more than one report (filed at the same "
                           "moment before this version); merge or remove the extra reports "
                           "before upgrading")
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_reporter_id'))
        batch_op.create_index(batch_op.f('ix_reports_reporter_id'), ['reporter_id'], unique=True)
    op.create_table('login_failure_days',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('logged', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_login_failure_days'))
    )


def downgrade() -> None:
    op.drop_table('login_failure_days')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_reporter_id'))
        batch_op.create_index(batch_op.f('ix_reports_reporter_id'), ['reporter_id'], unique=False)
