"""The vault: a directory that holds the team's workbench, unreadable without a passphrase.

Layout::

    vault.json                 format marker (nothing secret)
    workbench.sqlite           the database; sensitive columns encrypted (db.py)
    auditors/<key id>.json     one per person: name, role, their identity sealed under their
                               passphrase (argon2id), the vault key sealed to their X25519 key,
                               and a key check binding both to the vault (see below)
    files/<submission>.env     imported files, re-encrypted to the vault's own key pair

The vault key is 32 random bytes. Any auditor or lead opens it with their own passphrase: the
passphrase unseals their identity, their identity opens their copy of the vault key. A
compliance officer's record carries no copy of the vault key at all, so their passphrase cannot
decrypt content even with the files in hand: they see aggregates, which are plain columns.

The vault also keeps every auditor's X25519 secret key encrypted under the vault key (in the
database), so whoever unlocks can open envelopes sealed to any colleague.

Someone who can write the directory while it is locked can make a copy of the vault key sealed
to anyone's public card. So a record also holds a **key check**: a keyed BLAKE2b over the vault
id, the member's key id, the vault key and the public key of the vault's seal, under a key
derived from the member's own X25519 secret, which only their passphrase (or the vault key,
through their encrypted row) opens. Unlock refuses a copy that does not match it. The vault's
trust records (members, roles, server keys, settings, sequences, the audit-log head) are sealed
under the vault key (trust.py) and checked before anything else.

Vaults made before this (record and vault.json version 1) are upgraded in place at the first
unlock by an auditor or lead: their vault key is checked the one way such a vault allows (it
must open that person's own encrypted X25519 secret, to exactly their secret), then every
record gets its key check, every secret is re-encrypted bound to its row, and the trust records
are sealed. Schema changes come as Alembic migrations (db.create_schema)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, SealedBox
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from crypto.encoding import b64decode, b64encode, canonical_json
from crypto.errors import CryptoError, MalformedError, WrongPassphraseError
from crypto.identity import AuditorIdentity, Card
from crypto.kdf import DEFAULT_PARAMS, Argon2Params, subkey
from peluit.ground.clock import Clock
from peluit.ground.files import fsync_dir, wipe_and_remove, write_atomic

from . import audit, db, trust
from .errors import VaultError

FORMAT = "peluit-vault"
AUDITOR_FORMAT = "peluit-vault-auditor"
VERSION = 2
#: Versions read: 1 (main up to 3cb8afe, upgraded at the first unlock) and 2.
VERSIONS = (1, 2)
KEY_CHECK_PURPOSE = b"peluit-vlt-kchk"
KEY_CHECK_DOMAIN = b"peluit-vault-key-check-v1\0"
_VAULT_ID = re.compile(r"^[0-9a-f]{32}$")
MIN_PASSPHRASE = 16
_DEPLOYMENT = re.compile(r"^[0-9a-f]{32}$")
#: Roles that hold the vault key, i.e. may read content.
CONTENT_ROLES = ("auditor", "lead")
#: Roles that may add people to the vault.
ADMIN_ROLES = ("auditor", "lead")


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise VaultError(f"the passphrase must have at least {MIN_PASSPHRASE} characters "
                         "(several words are easiest to remember)")


def vault_box_key(vault_key: bytes) -> PrivateKey:
    """The vault's own X25519 key pair: imported files are re-encrypted to it."""
    return PrivateKey.from_seed(subkey(vault_key, b"peluit-vault-box"))


@dataclass
class Unlocked:
    """One person's open session on the vault. ``vault_key`` is None for compliance officers."""

    path: Path
    identity: AuditorIdentity
    role: str
    vault_key: bytes | None = field(repr=False)
    #: The public key of the vault's seal (trust.py), vouched for by the key check: lets a
    #: session without the vault key (a compliance officer) check the trust records too.
    seal_key: bytes | None = field(default=None, repr=False)

    @property
    def key_id(self) -> str:
        return self.identity.key_id

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def can_read_content(self) -> bool:
        return self.vault_key is not None and self.role in CONTENT_ROLES

    def require_content(self) -> bytes:
        if not self.can_read_content or self.vault_key is None:
            raise VaultError("a compliance officer sees aggregates only, never content")
        return self.vault_key

    def lock(self) -> None:
        """Forget the vault key (Python cannot scrub memory; dropping the reference is what we
        can do, and the process is short-lived or the web session ends)."""
        self.vault_key = None


@dataclass(frozen=True)
class AuditorRecord:
    key_id: str
    name: str
    role: str
    sealed_identity: bytes
    sealed_vault_key: bytes | None
    version: int = VERSION
    vault_id: str | None = None  # version 2 on
    seal_key: bytes | None = None  # the vault seal's Ed25519 public key
    key_check: bytes | None = None

    def to_bytes(self) -> bytes:
        obj = {
            "format": AUDITOR_FORMAT, "version": self.version, "key_id": self.key_id,
            "name": self.name, "role": self.role,
            "identity": self.sealed_identity.decode("utf-8"),
            "vault_key": b64encode(self.sealed_vault_key) if self.sealed_vault_key else None,
        }
        if self.version >= 2:
            assert self.vault_id and self.seal_key and self.key_check
            obj.update(vault=self.vault_id, seal_key=b64encode(self.seal_key),
                       key_check=b64encode(self.key_check))
        return json.dumps(obj, sort_keys=True, indent=1).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> AuditorRecord:
        try:
            obj = json.loads(data)
            if obj["format"] != AUDITOR_FORMAT or obj["version"] not in VERSIONS:
                raise MalformedError("not a vault auditor record")
            vk = obj["vault_key"]
            extra: dict[str, object] = {}
            if obj["version"] >= 2:
                if not _VAULT_ID.match(obj["vault"]):
                    raise MalformedError("bad vault id")
                extra = {"vault_id": obj["vault"],
                         "seal_key": b64decode(obj["seal_key"], length=32),
                         "key_check": b64decode(obj["key_check"], length=32)}
            return cls(obj["key_id"], obj["name"], obj["role"], obj["identity"].encode("utf-8"),
                       b64decode(vk, length=80) if vk is not None else None,
                       version=obj["version"], **extra)  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            # RecursionError: JSON nested deeper than the parser's stack (found by fuzzing).
            raise MalformedError("damaged vault auditor record") from None


def key_check(box_secret: bytes, vault_id: str, key_id: str, vault_key: bytes | None,
              seal_key: bytes) -> bytes:
    """The record's key check (docs/crypto.md, "Workbench vault"): BLAKE2b-256 keyed with
    ``subkey(member's X25519 secret, "peluit-vlt-kchk")`` over the domain and the canonical
    JSON of what it binds. Made by whoever holds the member's secret: the member, or a colleague
    through the vault key (adding them, upgrading the vault); never from public cards."""
    body = canonical_json({"key_id": key_id, "seal_key": b64encode(seal_key),
                           "vault": vault_id,
                           "vault_key": b64encode(vault_key) if vault_key else None})
    return hashlib.blake2b(KEY_CHECK_DOMAIN + body, digest_size=32,
                           key=subkey(box_secret, KEY_CHECK_PURPOSE)).digest()


def _today() -> str:
    return Clock().today().isoformat()


def _marker(path: Path) -> dict | None:
    try:
        obj = json.loads((Path(path) / "vault.json").read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(obj, dict) and obj.get("format") == FORMAT and obj.get("version") in VERSIONS:
        return obj
    return None


def is_vault(path: Path) -> bool:
    return _marker(path) is not None


def _write_marker(path: Path, vault_id: str) -> None:
    write_atomic(path / "vault.json", json.dumps(
        {"format": FORMAT, "version": VERSION, "id": vault_id}).encode())


def _require_vault(path: Path) -> Path:
    path = Path(path)
    if not is_vault(path):
        raise VaultError(f"{path} is not a Peluit workbench vault")
    return path


def auditor_records(path: Path) -> list[AuditorRecord]:
    """The people of the vault (names and roles; readable before unlocking, for the login list)."""
    records = []
    for f in sorted((_require_vault(path) / "auditors").glob("*.json")):
        try:
            records.append(AuditorRecord.from_bytes(f.read_bytes()))
        except (MalformedError, OSError):
            raise VaultError(f"the vault's record file {f.name} is damaged; refused") from None
    return sorted(records, key=lambda r: r.name.casefold())


def find_record(path: Path, who: str) -> AuditorRecord:
    """An auditor by key id or by name (names must then be unique)."""
    records = auditor_records(path)
    by_id = [r for r in records if r.key_id == who]
    by_name = [r for r in records if r.name == who]
    found = by_id or by_name
    if not found:
        raise VaultError(f"no auditor {who!r} in this vault")
    if len(found) > 1:
        raise VaultError(f"several auditors are called {who!r}; use the key id")
    return found[0]


def _write_record(path: Path, record: AuditorRecord) -> None:
    write_atomic(path / "auditors" / f"{record.key_id}.json", record.to_bytes())


def _record_for(key_id: str, name: str, role: str, box_secret: bytes, sealed_identity: bytes,
                vault_id: str, vault_key: bytes) -> AuditorRecord:
    """A version-2 record: the vault key sealed to the member (auditors and leads), the seal's
    public key, and the key check binding them, made with the member's secret."""
    seal_pk = bytes(trust.seal_keys(vault_key).verify)
    content = role in CONTENT_ROLES
    box = PrivateKey(box_secret)
    sealed_key = SealedBox(box.public_key).encrypt(vault_key) if content else None
    check = key_check(box_secret, vault_id, key_id, vault_key if content else None, seal_pk)
    return AuditorRecord(key_id, name, role, sealed_identity, sealed_key, VERSION, vault_id,
                         seal_pk, check)


def _new_member(session: Session, path: Path, name: str, role: str, passphrase: str,
                vault_key: bytes, vault_id: str, params: Argon2Params, today: str
                ) -> tuple[AuditorIdentity, Card]:
    if role not in db.ROLES:
        raise VaultError(f"unknown role {role!r} (auditor, lead or compliance)")
    check_passphrase(passphrase)
    try:
        identity = AuditorIdentity.generate(name)
        card = identity.card(dt.date.fromisoformat(today))
    except ValueError as exc:
        raise VaultError(str(exc)) from None
    if any(r.name == name for r in auditor_records(path)):
        raise VaultError(f"the vault already has an auditor called {name!r}")
    record = _record_for(identity.key_id, name, role, bytes(identity.box),
                         identity.seal(passphrase, params), vault_id, vault_key)
    session.add(db.Auditor(key_id=identity.key_id, name=name, role=role, card=card.to_bytes(),
                           box_secret=db.seal_box_secret(vault_key, identity.key_id,
                                                         bytes(identity.box)),
                           created_day=today, active=True))
    session.flush()
    _write_record(path, record)
    return identity, card


def server_card_from(data: bytes) -> Card:
    """A server's signing card, or VaultError saying what is wrong with it."""
    try:
        card = Card.from_bytes(data)
    except CryptoError as exc:
        raise VaultError(f"the server card is not valid: {exc}") from None
    if card.kind != "server":
        raise VaultError("the card given is not a server card")
    return card


def init(path: Path, name: str, passphrase: str, server_card: bytes, deployment_id: str,
         params: Argon2Params = DEFAULT_PARAMS, today: str | None = None) -> tuple[Unlocked, Card]:
    """Create a vault at ``path`` with its first auditor (role lead) and the pinned server card.

    The vault is built in a temporary directory beside ``path`` and renamed into place, so a
    failure leaves nothing behind."""
    path = Path(path)
    today = today or _today()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise VaultError(f"{path} exists and is not empty")
    if not _DEPLOYMENT.match(deployment_id):
        raise VaultError("the deployment id is 32 hexadecimal characters (see the server's "
                         "peluit.toml)")
    card = server_card_from(server_card)
    check_passphrase(passphrase)
    if not path.parent.is_dir():
        raise VaultError(f"{path.parent} is not a directory")
    tmp = path.with_name(f".{path.name}.init-{secrets.token_hex(6)}")
    tmp.mkdir(mode=0o700, parents=False)
    try:
        (tmp / "auditors").mkdir(mode=0o700)
        (tmp / "files").mkdir(mode=0o700)
        vault_id = secrets.token_hex(16)
        _write_marker(tmp, vault_id)
        vault_key = os.urandom(32)
        engine = db.make_engine(tmp)
        try:
            db.create_schema(engine)
            with db.unlocked(vault_key), Session(engine) as session:
                session.info[trust.CREATING] = True  # nothing sealed yet: seal at commit
                with session.begin():
                    identity, auditor_card = _new_member(session, tmp, name, "lead", passphrase,
                                                         vault_key, vault_id, params, today)
                    session.add(db.ServerCard(key_id=card.key_id, card=card.to_bytes(),
                                              pinned_day=today, active=True))
                    db.set_setting(session, "deployment", deployment_id)
                    db.set_setting(session, "vault_id", vault_id)
        finally:
            engine.dispose()
        if path.exists():
            path.rmdir()
        os.rename(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Unlocked(path, identity, "lead", vault_key), auditor_card


def _open_identity(record: AuditorRecord, passphrase: str) -> AuditorIdentity:
    try:
        identity = AuditorIdentity.unseal(record.sealed_identity, passphrase)
    except WrongPassphraseError:
        raise VaultError("wrong passphrase") from None
    except CryptoError:
        raise VaultError("the auditor record is damaged") from None
    if identity.key_id != record.key_id:
        raise VaultError("the auditor record is damaged (key id does not match)")
    return identity


def _open_vault_key(record: AuditorRecord, identity: AuditorIdentity) -> bytes | None:
    if record.sealed_vault_key is None:
        return None
    try:
        return SealedBox(identity.box).decrypt(record.sealed_vault_key)
    except NaclCryptoError:
        raise VaultError("the auditor record is damaged (vault key does not open)") from None


def refuse_tampered(engine: Any, exc: trust.TamperedVault, who: str, vault_key: bytes | None
                     ) -> VaultError:
    """The refusal; with the vault key in hand (a lead or auditor), also an audit-log entry
    (appended without sealing: the records it reports must not be signed over)."""
    if vault_key is not None:
        try:
            with Session(engine) as session:
                session.info[trust.SKIP] = True
                with session.begin():
                    audit.record(session, who, "vault.tampered", details={"problem": str(exc)})
        except Exception:  # noqa: BLE001, S110 - the refusal matters more than its log entry
            pass
    return trust.TamperedVault(str(exc))


def unlock(path: Path, who: str, passphrase: str) -> Unlocked:
    """Open ``who``'s identity with their passphrase and, for auditors and leads, the vault key;
    check the key and the vault's trust records (upgrading a vault made before they were
    sealed). Raise VaultError, one line, on anything wrong."""
    path = _require_vault(path)
    record = find_record(path, who)
    identity = _open_identity(record, passphrase)
    vault_key = _open_vault_key(record, identity)
    try:
        return _unlock(path, record, identity, vault_key)
    except (DatabaseError, db.TamperedError) as exc:
        raise VaultError(f"the vault's database is damaged ({str(exc).splitlines()[0][:80]}); "
                         "refused") from None


def _unlock(path: Path, record: AuditorRecord, identity: AuditorIdentity,
            vault_key: bytes | None) -> Unlocked:
    engine = db.make_engine(path)
    try:
        try:
            db.create_schema(engine)
        except db.SchemaError as exc:
            raise VaultError(str(exc)) from None
        if record.version >= 2:
            keys = _check_record(path, record, identity, vault_key)
        else:
            keys = _upgrade(engine, path, record, identity, vault_key)
        with Session(engine) as session:
            session.info[trust.SKIP] = True  # checked explicitly here, with a clear message
            conn = session.connection()
            try:
                trust.verify(conn, keys.verify)
            except trust.TamperedVault as exc:
                raise refuse_tampered(engine, exc, identity.key_id, vault_key) from None
            row = session.execute(select(db.Auditor.role, db.Auditor.active).where(
                db.Auditor.key_id == identity.key_id)).first()
            vault_id = db.get_setting(session, "vault_id")
        if row is None or not row.active:
            raise VaultError("this auditor is not active in the vault")
        if record.vault_id is not None and vault_id != record.vault_id:
            raise VaultError("this auditor record belongs to another vault")
        role = row.role
    finally:
        engine.dispose()
    if role not in CONTENT_ROLES:
        vault_key = None
    elif vault_key is None:
        raise VaultError("the auditor record holds no vault key")
    return Unlocked(path, identity, role, vault_key, bytes(keys.verify))


def _check_record(path: Path, record: AuditorRecord, identity: AuditorIdentity,
                  vault_key: bytes | None) -> trust.SealKeys:
    """The key check of a version-2 record; the seal keys it vouches for."""
    marker = _marker(path) or {}
    assert record.vault_id and record.seal_key and record.key_check
    expected = key_check(bytes(identity.box), record.vault_id, record.key_id, vault_key,
                         record.seal_key)
    if not hmac.compare_digest(expected, record.key_check):
        raise trust.TamperedVault("your copy of the vault key does not match its key check: "
                                  "someone replaced it; refused (ask a lead to look at the "
                                  "vault's audit log)")
    if marker.get("id") != record.vault_id:
        raise VaultError("this auditor record belongs to another vault")
    if vault_key is not None:
        keys = trust.seal_keys(vault_key)
        if bytes(keys.verify) != record.seal_key:
            raise VaultError("the auditor record is damaged (seal key does not match)")
        return keys
    from nacl.signing import VerifyKey
    return trust.SealKeys(None, VerifyKey(record.seal_key))


def _upgrade(engine: Any, path: Path, record: AuditorRecord, identity: AuditorIdentity,
             vault_key: bytes | None) -> trust.SealKeys:
    """A version-1 record: check its vault key the one way a version-1 vault allows, then bring
    the vault (if it is still version 1) and this record to version 2. Returns the seal keys."""
    if vault_key is None:
        raise VaultError("this vault was made by an older version of the workbench: an auditor "
                         "or a lead must unlock it once to upgrade it, then try again")
    keys = trust.seal_keys(vault_key)
    with db.unlocked(vault_key), Session(engine) as session:
        session.info[trust.CREATING] = True  # checked below, by hand
        with session.begin():
            rows = {r.key_id: r for r in session.scalars(select(db.Auditor))}
            mine = rows.get(identity.key_id)
            try:
                secret, fmt = db.open_box_secret(vault_key, identity.key_id,
                                                 mine.box_secret if mine else None)
            except db.TamperedError:
                secret, fmt = b"", 0
            if not hmac.compare_digest(secret, bytes(identity.box)):
                raise trust.TamperedVault("your copy of the vault key does not open your own key "
                                          "in the vault: someone replaced it; refused")
            conn = session.connection()
            if trust.has_seal(conn):
                # Upgraded already (by a colleague): check, then give this record its key check.
                try:
                    trust.verify(conn, keys.verify)
                except trust.TamperedVault as exc:
                    raise refuse_tampered(engine, exc, identity.key_id, vault_key) from None
                vault_id = db.get_setting(session, "vault_id")
                if not vault_id or not _VAULT_ID.match(vault_id):
                    raise VaultError("the vault's id is missing; refused")
                session.info[trust.SKIP] = True  # nothing written
                others = []
            else:
                if fmt != 1:
                    raise trust.TamperedVault("the vault's trust records are not sealed (the "
                                              "seal was removed); refused, nothing was read or "
                                              "written")
                vault_id, others = _upgrade_vault(session, path, rows, vault_key, identity)
    # After the commit: the marker first, then the records (a record naming a vault id that
    # did not commit would lock its owner out; a version-1 record left behind by a crash here
    # is upgraded at its owner's next unlock, through the branch above).
    if (_marker(path) or {}).get("id") != vault_id:
        _write_marker(path, vault_id)
    if record.version == 1:
        others.append(_record_for(record.key_id, record.name, record.role, bytes(identity.box),
                                  record.sealed_identity, vault_id, vault_key))
    for rec in others:
        _write_record(path, rec)
    return keys


def _upgrade_vault(session: Session, path: Path, rows: dict[str, Any], vault_key: bytes,
                   by: AuditorIdentity) -> tuple[str, list[AuditorRecord]]:
    """Version 1 to 2, in the caller's transaction: the vault as found is what gets sealed, so
    check what can be checked first. Returns the vault id and the records to write (every
    other active member's, with its key check) once the transaction has committed."""
    deployment = db.get_setting(session, "deployment")
    if not deployment or not _DEPLOYMENT.match(deployment):
        raise VaultError("the vault has no valid deployment id; refused to upgrade it (restore "
                         "it from a backup)")
    if not any(c.active for c in session.scalars(select(db.ServerCard))):
        raise VaultError("the vault trusts no server key; refused to upgrade it")
    vault_id = secrets.token_hex(16)
    db.set_setting(session, "vault_id", vault_id)
    records = {r.key_id: r for r in auditor_records(path)}
    pending = []
    for key_id, row in rows.items():
        try:
            secret, _ = db.open_box_secret(vault_key, key_id, row.box_secret)
        except db.TamperedError:
            raise VaultError(f"the key of {row.name} in the vault does not open; refused to "
                             "upgrade it") from None
        row.box_secret = db.seal_box_secret(vault_key, key_id, secret)
        rec = records.get(key_id)
        if rec is not None and rec.version == 1 and key_id != by.key_id and row.active:
            pending.append(_record_for(key_id, rec.name, rec.role, secret, rec.sealed_identity,
                                       vault_id, vault_key))
    audit.record(session, by.key_id, "vault.upgrade", details={"from": 1, "to": VERSION})
    session.flush()
    trust.reseal(session.connection(), trust.seal_keys(vault_key))
    return vault_id, pending


def add_auditor(session: Session, by: Unlocked, name: str, role: str, passphrase: str,
                params: Argon2Params = DEFAULT_PARAMS, today: str | None = None
                ) -> tuple[AuditorIdentity, Card]:
    """Add a person; only an unlocked auditor or lead may (they hold the vault key)."""
    if by.role not in ADMIN_ROLES or by.vault_key is None:
        raise VaultError("only an auditor or a lead can add people to the vault")
    trust.bind(session, trust.seal_keys(by.vault_key))
    vault_id = db.get_setting(session, "vault_id")
    if not vault_id:
        raise VaultError("the vault's id is missing; refused")
    return _new_member(session, by.path, name, role, passphrase, by.vault_key, vault_id, params,
                       today or _today())


def remove_auditor(session: Session, by: Unlocked, who: str) -> AuditorRecord:
    """Take a person's access away (a lead only; not oneself). Their row is marked inactive,
    which ``unlock`` refuses even if the record file came back (the row is sealed); the caller
    wipes the record file (``wipe_record``) once this has committed. Their X25519 secret stays,
    under the vault key, so envelopes sealed to them still open for the others.

    What this cannot undo: someone who copied the vault while they had access keeps the vault
    key for that copy. Changing the vault key would mean re-encrypting every file."""
    if by.role != "lead" or by.vault_key is None:
        raise VaultError("only a lead can remove people from the vault")
    trust.bind(session, trust.seal_keys(by.vault_key))
    record = find_record(by.path, who)
    if record.key_id == by.key_id:
        raise VaultError("you cannot remove yourself; ask another lead")
    row = session.get(db.Auditor, record.key_id)
    if row is None or not row.active:
        raise VaultError(f"{record.name} is not active in the vault")
    row.active = False
    return record


def wipe_record(path: Path, key_id: str) -> None:
    """Overwrite and delete a person's record file (their sealed identity and vault key)."""
    wipe_and_remove(Path(path) / "auditors" / f"{key_id}.json")


def box_keys(session: Session, vault_key: bytes) -> list[PrivateKey]:
    """Every auditor's X25519 secret key: for opening envelopes."""
    # Inactive people too: envelopes sealed to them before they left must still open.
    rows = session.scalars(select(db.Auditor)).all()
    return [PrivateKey(db.open_box_secret(vault_key, r.key_id, r.box_secret)[0])
            for r in rows if r.box_secret]
