"""The vault's trust records, bound under a key only the unlocked vault has (issue 11).

Someone who can write the vault directory while it is locked must not be able to change who may
unlock, with which role, which server keys are trusted, the deployment id, the bundle sequence
numbers, the gateway log kept, or cut the audit log short. All of those rows are covered by one
**seal**: the canonical JSON of every row of ``auditors``, ``server_cards``, ``settings`` and
``bundle_sequences`` (each row whole, by its primary key, so a changed, added or deleted row
shows), the audit log's head (``seq`` and the SHA-256 of its entry) and a digest of every row of
``gateway_log`` (and the number of ``cover_reports``, once it has rows), signed with Ed25519
under a key derived from the vault key (``subkey(vault_key, "peluit-vlt-seal")``). A signature
rather than a MAC so that a compliance officer, who holds no vault key, can check it too (their
record carries the public half, bound by their key check, vault.py); only holders of the vault
key can sign.

When it is checked and written:

* ``vault.unlock`` checks it before anything else is read (and names what differs);
* every database transaction run with the key current (``db.unlocked``) checks it when it begins
  and, if it wrote anything, signs the new state when it commits; so a command never acts on an
  unchecked row, and never signs over a row changed behind its back;
* the audit log is covered up to the sealed head only: entries appended later without the key
  (a failed login, a compliance officer's page views) chain on, and the next sealing commit
  covers them. Removing or changing the sealed head or anything before it (the chain) shows.

A mismatch raises ``TamperedVault`` (a ``VaultError``: one line, nothing written)."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from crypto.encoding import b64encode, canonical_json, parse_canonical_json
from crypto.errors import MalformedError
from crypto.kdf import subkey

from .errors import VaultError

SEAL_PURPOSE = b"peluit-vlt-seal"
SEAL_DOMAIN = b"peluit-vault-seal-v1\0"
SEAL_FORMAT = "peluit-vault-seal"
SEAL_VERSION = 1
#: Every column of these tables, in this order, primary key first.
TABLES: dict[str, tuple[str, ...]] = {
    "auditors": ("key_id", "name", "role", "card", "box_secret", "created_day", "active"),
    "server_cards": ("key_id", "card", "pinned_day", "active", "replaced_by"),
    "settings": ("name", "value"),
    "bundle_sequences": ("direction", "key_id", "seq"),
}
_ORDER = {"auditors": "key_id", "server_cards": "key_id", "settings": "name",
          "bundle_sequences": "direction, key_id"}
#: Tables that decide access to cases (workbench/cases/access.py), sealed like the ones above
#: but present in the sealed document only when they hold rows, so that a vault sealed before
#: they existed still matches its seal. Deleting every row of one is still a difference (the
#: sealed document names the table, the current one no longer does).
ACCESS_TABLES: dict[str, tuple[str, ...]] = {
    "case_assignments": ("case_id", "key_id", "day", "by"),
    "case_recusals": ("case_id", "key_id", "day"),
}
#: ``session.info`` flags: skip the check at begin (init and upgrade: no seal yet), skip all.
CREATING = "peluit_trust_creating"
SKIP = "peluit_trust_skip"
_WROTE = "peluit_trust_wrote"


class TamperedVault(VaultError):
    """The vault's trust records do not match their seal."""


@dataclass(frozen=True)
class SealKeys:
    signing: SigningKey | None  # None: may check, not sign (a compliance officer)
    verify: VerifyKey


def seal_keys(vault_key: bytes) -> SealKeys:
    signing = SigningKey(subkey(vault_key, SEAL_PURPOSE))
    return SealKeys(signing, signing.verify_key)


_current: contextvars.ContextVar[SealKeys | None] = contextvars.ContextVar(
    "peluit_vault_seal_keys", default=None)


@contextlib.contextmanager
def sealing(keys: SealKeys | None) -> Iterator[None]:
    token = _current.set(keys)
    try:
        yield
    finally:
        _current.reset(token)


def _value(v: Any) -> Any:
    # SQLite keeps whatever type was written: a type changed behind our back must show, so
    # bytes and text are told apart, and anything else (a float) is a difference in itself.
    if isinstance(v, (bytes, memoryview)):
        return {"b64": b64encode(bytes(v))}
    if v is None or isinstance(v, (str, int)):
        return v
    return {"other": repr(v)}


def snapshot(conn: Any, audit_at: int | None) -> dict[str, Any]:
    """What the seal covers, read from the database through ``conn``. ``audit_at``: the audit
    log entry to cover (the sealed head when checking; None: the newest, when sealing)."""
    state: dict[str, Any] = {"format": SEAL_FORMAT, "version": SEAL_VERSION}
    for table, columns in TABLES.items():
        # Names from the constants above, never from input.
        rows = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608
                                 f"ORDER BY {_ORDER[table]}")).fetchall()
        state[table] = [[_value(v) for v in row] for row in rows]
    names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
                .scalars())
    for table, columns in ACCESS_TABLES.items():
        if table not in names:
            continue
        rows = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608
                                 "ORDER BY case_id, key_id")).fetchall()
        if rows:
            state[table] = [[_value(v) for v in row] for row in rows]
    if "cover_reports" in names:
        # The reports every reply bundle covers (workbench/cover.py): their number here (a row
        # dropped would show the server one report fewer than the other group covers, a row
        # planted would make the gateway refuse this vault's bundles); each row carries its
        # own MAC, checked when an export reads it. Present only once it holds rows, so older
        # seals still match. A count, not a digest of every row: this runs in every
        # transaction, and a digest cost 30 ms at 10,000 reports.
        count = conn.execute(text("SELECT count(*) FROM cover_reports")).scalar()
        if count:
            state["cover_reports"] = {"rows": count}
    if audit_at is None:
        audit_at = conn.execute(text("SELECT max(seq) FROM audit_log")).scalar()
    head = None
    if audit_at is not None:
        rows = conn.execute(text("SELECT entry FROM audit_log WHERE seq = :s"),
                            {"s": audit_at}).fetchall()
        raw = rows[0][0] if len(rows) == 1 else None
        raw = raw.encode() if isinstance(raw, str) else raw
        head = [audit_at, hashlib.sha256(bytes(raw)).hexdigest() if raw is not None else None]
    state["audit_head"] = head
    digest, count = hashlib.sha256(), 0
    for row in conn.execute(text("SELECT seq, entry, hash, seen_day FROM gateway_log "
                                 "ORDER BY seq")):
        digest.update(canonical_json([_value(v) for v in row]) + b"\n")
        count += 1
    state["gateway_log"] = {"rows": count, "sha256": digest.hexdigest()}
    return state


def _stored(conn: Any) -> tuple[bytes, bytes] | None:
    rows = conn.execute(text("SELECT body, signature FROM vault_seal")).fetchall()
    if not rows:
        return None
    if len(rows) != 1:
        raise TamperedVault("the vault's seal of its trust records is damaged (several seals); "
                            "refused, nothing was read or written")
    return bytes(rows[0][0] or b""), bytes(rows[0][1] or b"")


def has_seal(conn: Any) -> bool:
    return _stored(conn) is not None


def verify(conn: Any, key: VerifyKey) -> dict[str, Any]:
    """Check the trust records read through ``conn`` against the seal; return the sealed state
    or raise TamperedVault naming what differs."""
    stored = _stored(conn)
    if stored is None:
        raise TamperedVault("the vault's trust records are not sealed (the seal was removed); "
                            "refused, nothing was read or written")
    body, signature = stored
    try:
        key.verify(SEAL_DOMAIN + body, signature)
        sealed = parse_canonical_json(body)
    except (BadSignatureError, ValueError, MalformedError):
        raise TamperedVault("the vault's seal of its trust records does not verify (forged or "
                            "damaged); refused, nothing was read or written") from None
    head = sealed.get("audit_head") if isinstance(sealed, dict) else None
    current = snapshot(conn, head[0] if head else None)
    if head is None and current["audit_head"] is not None:
        current["audit_head"] = None  # entries appended after an empty sealed log chain on
    changed = sorted(k for k in set(sealed) | set(current) if sealed.get(k) != current.get(k))
    if changed:
        names = ", ".join("audit log" if k == "audit_head" else k.replace("_", " ")
                          for k in changed)
        raise TamperedVault(f"the vault's trust records were changed outside the workbench "
                            f"({names}); refused, nothing was read or written")
    return sealed


def reseal(conn: Any, keys: SealKeys) -> None:
    """Sign the current state (only after it was checked, or while it is being created)."""
    if keys.signing is None:
        raise TamperedVault("only an auditor or a lead can change the vault's trust records")
    body = canonical_json(snapshot(conn, None))
    stored = _stored(conn)
    if stored is not None and stored[0] == body:
        return
    signature = keys.signing.sign(SEAL_DOMAIN + body).signature
    conn.execute(text("DELETE FROM vault_seal"))
    conn.execute(text("INSERT INTO vault_seal (id, body, signature) VALUES (1, :b, :s)"),
                 {"b": body, "s": signature})


# --- every session: check when a transaction begins, sign when it commits -------------------

_KEYS = "peluit_trust_keys"
_CHECKED = "peluit_trust_checked"


def bind(session: Session, keys: SealKeys) -> None:
    """Make ``session``'s transaction check (now, if it has not) and seal (at commit) with
    ``keys``, whatever key context the caller set: for the functions that change trust records
    (adding or removing people, pinning a server key)."""
    session.info[_KEYS] = keys
    session.connection()  # begins the transaction if needed (and checks, in a key context)
    if not session.info.get(_CHECKED) and not session.info.get(CREATING) \
            and not session.info.get(SKIP):
        verify(session.connection(), keys.verify)
        session.info[_CHECKED] = True


@event.listens_for(Session, "after_begin")
def _check_on_begin(session: Session, transaction: Any, connection: Any) -> None:
    keys = _current.get() or session.info.get(_KEYS)
    if keys is None or transaction.nested or session.info.get(SKIP):
        return
    session.info[_KEYS] = keys
    if not session.info.get(CREATING):
        verify(connection, keys.verify)
        session.info[_CHECKED] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_dml(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    keys = session.info.get(_KEYS) or _current.get()
    if keys is None or session.info.get(SKIP):
        return
    session.flush()
    if session.info.get(_WROTE) and keys.signing is not None:
        reseal(session.connection(), keys)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        for flag in (_WROTE, _KEYS, _CHECKED):
            session.info.pop(flag, None)
