"""The workbench database: a SQLite file in the vault, its sensitive columns encrypted.

Encrypted columns (``EncryptedBytes``, ``EncryptedText``, ``EncryptedJSON``, ``EncryptedInt``)
hold ``version byte | 24-byte nonce | XChaCha20-Poly1305 ciphertext`` under a key derived from
the vault key; the associated data names the column's purpose, so a value moved into another
column does not decrypt. A copied vault file therefore shows ids, days, kinds and counts, and
nothing a reporter wrote. (Values of one column can still be swapped between rows by someone who
can write the file; the audit log and the server's signatures are the defence there.)

The key is not global: it lives in a ``contextvars.ContextVar`` set with ``unlocked(key)`` for
one command or one web request of a session that holds the key. Loading or storing an encrypted
value with no key raises ``VaultLockedError``; a compliance officer's session never holds the
key, so a view that tries to show them content fails closed. Encrypted columns cannot be used
in WHERE clauses or ORDER BY (random nonces): query by id, day, kind or status.

Other workbench packages (cases/) define their models on ``Base`` and list their module in
``SCHEMA_MODULES`` so that ``create_schema`` creates their tables too.

Here: the models and the schema (creation, Alembic migrations). The encrypted column types and
the key context are in ``workbench/columns.py``, the engine and session factory in
``workbench/dbengine.py``; both are re-exported here (``db.EncryptedJSON``, ``db.make_engine``)."""

from __future__ import annotations

import functools
import importlib
import os
from pathlib import Path
from typing import Any

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError as NaclCryptoError
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .columns import (  # noqa: F401 - re-exported: the column API
    _COLUMN_AD,
    EncryptedBytes,
    EncryptedInt,
    EncryptedJSON,
    EncryptedText,
    TamperedError,
    VaultLockedError,
    _key,
    column_key,
    is_unlocked,
    unlocked,
    vault_error_of,
)
from .dbengine import DB_FILE, make_engine, session_factory  # noqa: F401 - re-exported

#: Modules whose models live on Base; imported by create_schema. Missing ones are skipped, so a
#: package can add itself here before its models exist.
SCHEMA_MODULES = ("workbench.db", "workbench.cases.models", "workbench.escrow")


class Base(DeclarativeBase):
    pass


# --- people and keys ------------------------------------------------------------------------

ROLES = ("auditor", "lead", "compliance")


class Auditor(Base):
    """A workbench user. Their identity file lives in the vault's ``auditors/`` directory; the row
    holds what the team needs: the public card, the role, and (encrypted) the X25519 secret key so
    that any unlocked auditor can open envelopes that were sealed to a colleague."""

    __tablename__ = "auditors"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    card: Mapped[bytes] = mapped_column(LargeBinary)
    # Encrypted under the vault key and bound to this row's key id (box_secret_* below); not an
    # EncryptedBytes column, whose associated data names the column only.
    box_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_day: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServerCard(Base):
    """A pinned server signing card. Inbox bundles are accepted only from an active one."""

    __tablename__ = "server_cards"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    card: Mapped[bytes] = mapped_column(LargeBinary)
    pinned_day: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    replaced_by: Mapped[str | None] = mapped_column(String(32))


# The day the last inbox bundle was imported (the carrying schedule, policies.clocks CARRYING).
CARRIED_SETTING = "inbox_carried_day"
# The day the last reply bundle was exported, by anyone of the vault: every group carries one
# every working day, so that its upload days do not tell when it had something to send.
EXPORTED_SETTING = "reply_exported_day"


class Setting(Base):
    """Small vault-wide values: ``deployment`` (the server deployment id pinned at init),
    ``inbox_carried_day`` (CARRIED_SETTING), ``reply_exported_day`` (EXPORTED_SETTING)."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class BundleSequence(Base):
    """Per signer: ``inbox`` = last inbox seq accepted from a server key; ``reply`` = last reply
    seq this workbench used for an auditor key (the next export uses seq + 1)."""

    __tablename__ = "bundle_sequences"
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)


_BOX_SECRET_AD_V1 = _COLUMN_AD + b"auditor.box_secret"  # vaults before issue 11
_BOX_SECRET_AD = b"peluit-vault-box-secret-v2\0"


def seal_box_secret(vault_key: bytes, key_id: str, secret: bytes) -> bytes:
    """A member's X25519 secret under the vault key, bound to their key id. Doubles as a key
    check: only the vault key opens it, and only to that member's own secret, which nobody
    without their passphrase (or the vault key) knows."""
    nonce = os.urandom(24)
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(
        secret, _BOX_SECRET_AD + key_id.encode(), nonce, column_key(vault_key))
    return b"\x02" + nonce + ct


def open_box_secret(vault_key: bytes, key_id: str, raw: bytes | None) -> tuple[bytes, int]:
    """(the secret, the format: 1 as vaults before issue 11 wrote it, 2 bound to the row);
    TamperedError if it does not open under this key for this row."""
    raw = bytes(raw or b"")
    if len(raw) < 41 or raw[:1] not in (b"\x01", b"\x02"):
        raise TamperedError("auditor.box_secret: not an encrypted value")
    version = raw[0]
    ad = _BOX_SECRET_AD_V1 if version == 1 else _BOX_SECRET_AD + key_id.encode()
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(
            raw[25:], ad, raw[1:25], column_key(vault_key)), version
    except NaclCryptoError:
        raise TamperedError("auditor.box_secret: does not open under this vault key") from None


class VaultSeal(Base):
    """The signed seal over the vault's trust records (trust.py); one row."""

    __tablename__ = "vault_seal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


# --- reports and what came with them ----------------------------------------------------------

REPORT_STATUSES = ("received", "verification", "forwarded", "investigation", "finished",
                   "duplicate", "archived", "not_processed")


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the server's report id
    reporter_key: Mapped[bytes] = mapped_column(EncryptedBytes("report.reporter_key"))
    channel: Mapped[str] = mapped_column(String(16), default="web")
    received_day: Mapped[str] = mapped_column(String(10), index=True)
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="report", order_by="Submission.seq")
    replies: Mapped[list[Reply]] = relationship(back_populates="report", order_by="Reply.seq")


# deposit, consent: identity in escrow (workbench/escrow.py)
SUBMISSION_KINDS = ("report", "message", "file", "retaliation", "deposit", "consent")


class Submission(Base):
    """One imported envelope. Text kinds keep their decrypted JSON body in ``content``; files keep
    their bytes re-encrypted under the vault in a pack (``filestore.py``)."""

    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the server's submission id
    seq: Mapped[int] = mapped_column(Integer, index=True)  # import order, for stable listing
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    received_day: Mapped[str] = mapped_column(String(10))
    content: Mapped[Any | None] = mapped_column(EncryptedJSON("submission.content"))
    file_name: Mapped[str | None] = mapped_column(EncryptedText("submission.file_name"))
    content_type: Mapped[str | None] = mapped_column(EncryptedText("submission.content_type"))
    size: Mapped[int] = mapped_column(EncryptedInt("submission.size"))
    sha256: Mapped[str] = mapped_column(EncryptedText("submission.sha256"))
    file_path: Mapped[str | None] = mapped_column(String(200))  # the pack (filestore.py)
    file_offset: Mapped[int | None] = mapped_column(Integer)
    file_length: Mapped[int | None] = mapped_column(Integer)  # of the envelope in the pack
    import_seq: Mapped[int] = mapped_column(Integer)  # inbox bundle it came in
    ack_seq: Mapped[int | None] = mapped_column(Integer)  # reply bundle that acknowledged it
    ack_by: Mapped[str | None] = mapped_column(String(32))  # whose bundle (seqs are per key)
    report: Mapped[Report] = relationship(back_populates="submissions")


class OtherGroupAck(Base):
    """A submission of an inbox bundle sealed to another recipient group (a report about the
    inspectorate goes to the conflict group only): not opened, not stored, but acknowledged
    like one of ours, so that the server cannot tell from the acknowledgments which group
    handled it (dropbox_app/gateway/acks.py). The id alone, which the server already has."""

    __tablename__ = "other_group_acks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the server's submission id
    import_seq: Mapped[int] = mapped_column(Integer)  # inbox bundle it came in
    ack_seq: Mapped[int | None] = mapped_column(Integer)  # reply bundle that acknowledged it
    ack_by: Mapped[str | None] = mapped_column(String(32))  # whose bundle (seqs are per key)


class CoverReport(Base):
    """A report seen in an imported inbox bundle, whichever group it is sealed to: the reports
    every reply bundle covers with one entry each (workbench/cover.py, crypto/replyentry.py).
    The server has all of this (the report id, the reporter's public key, the day of the
    newest submission); it is kept apart from ``reports`` so that both groups' vaults hold the
    same set, whatever each could open or has disposed of."""

    __tablename__ = "cover_reports"
    report_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reporter_key: Mapped[bytes] = mapped_column(EncryptedBytes("cover.reporter_key"))
    last_day: Mapped[str] = mapped_column(String(10), index=True)
    # BLAKE2b of the three under a key derived from the vault key (cover.py): a row changed,
    # planted or with another row's key, by someone with the file but not the key, shows.
    mac: Mapped[str] = mapped_column(String(64))


class Reply(Base):
    """A question or message to the reporter, written on the workbench, exported once."""

    __tablename__ = "replies"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # question | message
    text: Mapped[str] = mapped_column(EncryptedText("reply.text"))
    author: Mapped[str] = mapped_column(String(32))  # auditor key id
    created_day: Mapped[str] = mapped_column(String(10))
    exported_seq: Mapped[int | None] = mapped_column(Integer)  # reply bundle that carried it
    exported_by: Mapped[str | None] = mapped_column(String(32))
    report: Mapped[Report] = relationship(back_populates="replies")


class StatusChange(Base):
    """A coarse reporter-visible status to send with the next reply bundle (case management
    queues them with ``workbench.outbox.queue_status``)."""

    __tablename__ = "status_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(32))
    created_day: Mapped[str] = mapped_column(String(10))
    exported_seq: Mapped[int | None] = mapped_column(Integer)
    exported_by: Mapped[str | None] = mapped_column(String(32))


class AuditLogRow(Base):
    """The hash-chained audit log (policies/auditlog.py): canonical entry bytes and their hash.
    Plain on purpose: ``peluit audit verify`` reads it without the vault key, so entries carry
    ids, actions and actors only, never content."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("hash"),)


class GatewayLogRow(Base):
    """Every entry of the gateway's admin log that an inbox bundle carried
    (workbench/gatewaylog.py): the canonical entry bytes and their hash, in the audit log's
    format. Kept to notice a gateway log changed after the fact; plain for the same reason as
    the audit log: staff names and key ids only."""

    __tablename__ = "gateway_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[str] = mapped_column(String(64))
    seen_day: Mapped[str] = mapped_column(String(10))


# --- engine ----------------------------------------------------------------------------------


class SchemaError(Exception):
    """The vault's database lacks columns this version needs and no migration adds them."""


MIGRATIONS = Path(__file__).with_name("migrations")
#: The revision of vaults made before migrations existed (main up to 3cb8afe).
BASELINE = "0001_before_migrations"


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


#: The newest migration (a test checks it against workbench/migrations): an up-to-date vault is
#: recognised without loading Alembic, which costs a good part of a second at each unlock.
HEAD = "0003_case_access"


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    except OperationalError:
        return None
    return rows[0][0] if len(rows) == 1 else None


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def create_schema(engine: Engine) -> None:
    """Bring the vault database to this version's schema: a new one is created and stamped
    with the newest revision; an existing one is upgraded by the Alembic migrations in
    ``workbench/migrations`` (a vault from before migrations is first stamped ``BASELINE``).
    Tables of packages added since are then created if missing. Changes to existing tables come
    as migrations, never as "refuse old vaults"."""
    for name in SCHEMA_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
    if _stored_revision(engine) != HEAD:
        _migrate(engine)
    Base.metadata.create_all(engine)
    found = inspect(engine)
    for table in Base.metadata.sorted_tables:
        have = {c["name"] for c in found.get_columns(table.name)}
        missing = sorted(c.name for c in table.columns if c.name not in have)
        if missing:
            raise SchemaError(f"table {table.name} lacks {', '.join(missing)} and no migration "
                              "adds it (a bug: report it)")


def _migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.util.exc import CommandError

    if "auditors" not in set(inspect(engine).get_table_names()):
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            command.stamp(_alembic_config(conn), "head")
        return
    current = current_revision(engine)
    try:
        with engine.begin() as conn:
            cfg = _alembic_config(conn)
            if current is None:
                command.stamp(cfg, BASELINE)
            command.upgrade(cfg, "head")
    except CommandError:
        raise SchemaError(f"the vault database says it has schema revision "
                          f"{str(current)[:40]!r}, which this version does not know (a newer "
                          "workbench, or a damaged vault)") from None


def get_setting(session: Any, name: str) -> str | None:
    row = session.get(Setting, name)
    return row.value if row else None


def set_setting(session: Any, name: str, value: str) -> None:
    row = session.get(Setting, name)
    if row is None:
        session.add(Setting(name=name, value=value))
    else:
        row.value = value
