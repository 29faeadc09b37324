"""The gateway's own tables: auditor accounts and their sessions, bundle sequence numbers,
the history of the server's signing keys, and the admin log.

These hold auditor-side facts only. Times here are auditors' (login, lockout, session expiry) and
are kept in whole seconds because expiry needs them; nothing here says anything about a reporter.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, day_column, id_column

ROLES = ("admin", "auditor")


class GatewayUser(Base):
    __tablename__ = "gateway_users"

    id: Mapped[str] = id_column()
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    passphrase_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    # Sealed (dropbox_app/gateway/totpseal.py): "s1:" + base64(nonce ‖ ciphertext).
    totp_secret: Mapped[str] = mapped_column(String(160), nullable=False)
    # The TOTP time step of the last code accepted: that code and every older one are spent.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_day: Mapped[str] = day_column()


class GatewaySession(Base):
    """Server-side session. ``id`` is a hash of the cookie's token, so a copy of the table
    opens no session."""

    __tablename__ = "gateway_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("gateway_users.id", ondelete="CASCADE"),
                                         index=True, nullable=False)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_seen_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reauth_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class BundleSequence(Base):
    """The last sequence number per signing key and direction: ``inbox`` for the bundles this
    server signs (one sequence per server key), ``reply`` for those it accepted from an auditor
    key (anything not newer is a replay)."""

    __tablename__ = "bundle_sequences"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)


class ServerKeyRecord(Base):
    """Every server signing key this deployment used: ``pending`` (created by a rotation, not
    yet announced), ``current``, ``retired``. Public cards only; the private key is a file."""

    __tablename__ = "server_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    card: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    created_day: Mapped[str] = day_column()
    retired_day: Mapped[str | None] = day_column(nullable=True)


class AdminLogRow(Base):
    """The gateway's admin log (dropbox_app/gateway/adminlog.py): one hash-chained entry per
    change to accounts, auditor cards or server keys, in the workbench audit log's format
    (policies/auditlog.py) with the day as its time."""

    __tablename__ = "admin_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AdminLogHead(Base):
    """One row (id 1): the admin log's last seq and hash. Appending locks it, so two admins
    acting at once get consecutive numbers instead of one failing on the primary key."""

    __tablename__ = "admin_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
