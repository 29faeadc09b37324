"""The vault: a directory that holds the team's workbench, unreadable without a passphrase.

Layout::

    vault.json                 format marker (nothing secret)
    workbench.sqlite           the database; sensitive columns encrypted (db.py)
    auditors/<key id>.json     one per person: name, role, their identity sealed under their
                               passphrase (argon2id), and the vault key sealed to their X25519 key
    files/<submission>.env     imported files, re-encrypted to the vault's own key pair

The vault key is 32 random bytes. Any auditor or lead opens it with their own passphrase: the
passphrase unseals their identity, their identity opens their copy of the vault key. A
compliance officer's record carries no copy of the vault key at all, so their passphrase cannot
decrypt content even with the files in hand: they see aggregates, which are plain columns.

The vault also keeps every auditor's X25519 secret key encrypted under the vault key (in the
database), so whoever unlocks can open envelopes sealed to any colleague."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, SealedBox
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.encoding import b64decode, b64encode
from crypto.errors import CryptoError, MalformedError, WrongPassphraseError
from crypto.identity import AuditorIdentity, Card
from crypto.kdf import DEFAULT_PARAMS, Argon2Params, subkey
from peluit.ground.clock import Clock
from peluit.ground.files import fsync_dir, write_atomic

from . import db

FORMAT = "peluit-vault"
AUDITOR_FORMAT = "peluit-vault-auditor"
VERSION = 1
MIN_PASSPHRASE = 16
_DEPLOYMENT = re.compile(r"^[0-9a-f]{32}$")
#: Roles that hold the vault key, i.e. may read content.
CONTENT_ROLES = ("auditor", "lead")
#: Roles that may add people to the vault.
ADMIN_ROLES = ("auditor", "lead")


class VaultError(Exception):
    """A vault operation failed for a reason the user can act on (message is one clear line)."""


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

    def to_bytes(self) -> bytes:
        return json.dumps({
            "format": AUDITOR_FORMAT, "version": VERSION, "key_id": self.key_id,
            "name": self.name, "role": self.role,
            "identity": self.sealed_identity.decode("utf-8"),
            "vault_key": b64encode(self.sealed_vault_key) if self.sealed_vault_key else None,
        }, sort_keys=True, indent=1).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> AuditorRecord:
        try:
            obj = json.loads(data)
            if obj["format"] != AUDITOR_FORMAT or obj["version"] != VERSION:
                raise MalformedError("not a vault auditor record")
            vk = obj["vault_key"]
            return cls(obj["key_id"], obj["name"], obj["role"], obj["identity"].encode("utf-8"),
                       b64decode(vk, length=80) if vk is not None else None)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise MalformedError("damaged vault auditor record") from None


def _today() -> str:
    return Clock().today().isoformat()


def is_vault(path: Path) -> bool:
    try:
        obj = json.loads((Path(path) / "vault.json").read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(obj, dict) and obj.get("format") == FORMAT and obj.get("version") == VERSION


def _require_vault(path: Path) -> Path:
    path = Path(path)
    if not is_vault(path):
        raise VaultError(f"{path} is not a Peluit workbench vault")
    return path


def auditor_records(path: Path) -> list[AuditorRecord]:
    """The people of the vault (names and roles; readable before unlocking, for the login list)."""
    records = []
    for f in sorted((_require_vault(path) / "auditors").glob("*.json")):
        records.append(AuditorRecord.from_bytes(f.read_bytes()))
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


def _new_member(session: Session, path: Path, name: str, role: str, passphrase: str,
                vault_key: bytes, params: Argon2Params, today: str) -> tuple[AuditorIdentity, Card]:
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
    sealed_key = SealedBox(identity.box.public_key).encrypt(vault_key) if role in CONTENT_ROLES \
        else None
    record = AuditorRecord(identity.key_id, name, role, identity.seal(passphrase, params),
                           sealed_key)
    with db.unlocked(vault_key):
        session.add(db.Auditor(key_id=identity.key_id, name=name, role=role, card=card.to_bytes(),
                               box_secret=bytes(identity.box), created_day=today, active=True))
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
        write_atomic(tmp / "vault.json", json.dumps({"format": FORMAT, "version": VERSION})
                     .encode())
        vault_key = os.urandom(32)
        engine = db.make_engine(tmp)
        try:
            db.create_schema(engine)
            with Session(engine) as session, session.begin():
                identity, auditor_card = _new_member(session, tmp, name, "lead", passphrase,
                                                     vault_key, params, today)
                session.add(db.ServerCard(key_id=card.key_id, card=card.to_bytes(),
                                          pinned_day=today, active=True))
                db.set_setting(session, "deployment", deployment_id)
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


def unlock(path: Path, who: str, passphrase: str) -> Unlocked:
    """Open ``who``'s identity with their passphrase and, for auditors and leads, the vault key."""
    path = _require_vault(path)
    record = find_record(path, who)
    try:
        identity = AuditorIdentity.unseal(record.sealed_identity, passphrase)
    except WrongPassphraseError:
        raise VaultError("wrong passphrase") from None
    except CryptoError:
        raise VaultError("the auditor record is damaged") from None
    if identity.key_id != record.key_id:
        raise VaultError("the auditor record is damaged (key id does not match)")
    vault_key = None
    if record.sealed_vault_key is not None:
        try:
            vault_key = SealedBox(identity.box).decrypt(record.sealed_vault_key)
        except NaclCryptoError:
            raise VaultError("the auditor record is damaged (vault key does not open)") from None
    engine = db.make_engine(path)
    try:
        with Session(engine) as session:
            # Plain columns only: the vault key is not current here.
            row = session.execute(select(db.Auditor.role, db.Auditor.active).where(
                db.Auditor.key_id == identity.key_id)).first()
            if row is None or not row.active:
                raise VaultError("this auditor is not active in the vault")
            role = row.role
    finally:
        engine.dispose()
    if role not in CONTENT_ROLES:
        vault_key = None
    elif vault_key is None:
        raise VaultError("the auditor record holds no vault key")
    return Unlocked(path, identity, role, vault_key)


def add_auditor(session: Session, by: Unlocked, name: str, role: str, passphrase: str,
                params: Argon2Params = DEFAULT_PARAMS, today: str | None = None
                ) -> tuple[AuditorIdentity, Card]:
    """Add a person; only an unlocked auditor or lead may (they hold the vault key)."""
    if by.role not in ADMIN_ROLES or by.vault_key is None:
        raise VaultError("only an auditor or a lead can add people to the vault")
    return _new_member(session, by.path, name, role, passphrase, by.vault_key, params,
                       today or _today())


def remove_auditor(session: Session, by: Unlocked, who: str) -> AuditorRecord:
    """Take a person's access away (a lead only; not oneself). Their row is marked inactive,
    which ``unlock`` refuses even if the record file came back; the caller wipes the record
    file (``wipe_record``) once this has committed. Their X25519 secret stays, under the vault
    key, so envelopes sealed to them still open for the others.

    What this cannot undo: someone who copied the vault while they had access keeps the vault
    key for that copy. Changing the vault key would mean re-encrypting every file."""
    if by.role != "lead":
        raise VaultError("only a lead can remove people from the vault")
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
    f = Path(path) / "auditors" / f"{key_id}.json"
    try:
        with open(f, "r+b") as out:
            out.write(bytes(os.fstat(out.fileno()).st_size))
            out.flush()
            os.fsync(out.fileno())
    except FileNotFoundError:
        return
    f.unlink()
    fsync_dir(f.parent)


def box_keys(session: Session) -> list[PrivateKey]:
    """Every auditor's X25519 secret key (needs ``db.unlocked``): for opening envelopes."""
    # Inactive people too: envelopes sealed to them before they left must still open.
    rows = session.scalars(select(db.Auditor)).all()
    return [PrivateKey(r.box_secret) for r in rows if r.box_secret]
