"""gateway: accounts, sessions, bundle sequences, server key history

Revision ID: 0002_gateway
Revises: 0001_reporter
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_gateway'
down_revision = '0001_reporter'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gateway_users',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('passphrase_hash', sa.String(length=255), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=False),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_day', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_users')),
    sa.UniqueConstraint('username', name=op.f('uq_gateway_users_username'))
    )
    op.create_table('gateway_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('last_seen_at', sa.BigInteger(), nullable=False),
    sa.Column('reauth_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['gateway_users.id'],
                            name=op.f('fk_gateway_sessions_user_id_gateway_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_sessions'))
    )
    with op.batch_alter_table('gateway_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_sessions_user_id'), ['user_id'], unique=False)
    op.create_table('bundle_sequences',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'direction', name=op.f('pk_bundle_sequences'))
    )
    op.create_table('server_keys',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('card', sa.LargeBinary(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_day', sa.String(length=10), nullable=False),
    sa.Column('retired_day', sa.String(length=10), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_server_keys'))
    )


def downgrade() -> None:
    op.drop_table('server_keys')
    op.drop_table('bundle_sequences')
    with op.batch_alter_table('gateway_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_sessions_user_id'))
    op.drop_table('gateway_sessions')
    op.drop_table('gateway_users')
