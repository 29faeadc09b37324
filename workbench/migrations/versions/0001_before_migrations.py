"""vaults made before the vault had migrations (up to main at 3cb8afe)

Their tables were created by ``Base.metadata.create_all``; this revision only names that state,
so that such a vault (no ``alembic_version`` table) is stamped here and upgraded from it.

Revision ID: 0001_before_migrations
Revises:
"""

revision = '0001_before_migrations'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
