"""gateway: TOTP seeds sealed under the server secret

Every ``gateway_users.totp_secret`` still in clear is sealed (dropbox_app/gateway/totpseal.py)
under a key derived from ``secrets/server.secret``, which is created beside the server key if
the deployment has none. The migration needs the deployment's configuration for that, which
``peluit db upgrade`` gives it; a database with clear seeds upgraded without it is refused
rather than left minting codes. The column widens for the sealed form.

Revision ID: 0007_sealed_totp
Revises: 0006_answer_receipts
"""
from alembic import context, op
import sqlalchemy as sa


revision = '0007_sealed_totp'
down_revision = '0006_answer_receipts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    rows = [(uid, seed) for uid, seed in conn.execute(
        sa.text("SELECT id, totp_secret FROM gateway_users")) if not seed.startswith("s1:")]
    path = context.config.attributes.get("peluit.server_secret_file")
    if rows and path is None:  # refused before any change
        raise RuntimeError("sealing the TOTP seeds needs the deployment's secrets: run "
                           "`peluit db upgrade --config …`")
    with op.batch_alter_table('gateway_users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64),
                              type_=sa.String(length=160), existing_nullable=False)
    if not rows:
        return
    from dropbox_app.gateway import totpseal

    key = totpseal.key_from_file(path)
    for uid, seed in rows:
        conn.execute(sa.text("UPDATE gateway_users SET totp_secret = :s WHERE id = :i"),
                     {"s": totpseal.seal(seed, uid, key), "i": uid})


def downgrade() -> None:
    # The sealed seeds stay sealed (a downgrade must not write them out in clear); a release
    # before this one cannot read them, so accounts get new credentials with `gateway-user reset`.
    pass
