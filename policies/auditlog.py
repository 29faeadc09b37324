"""The workbench's hash-chained audit log: entries, verification and signed checkpoints.

The chain (docs/engineering.md): each entry is canonical JSON
``{"seq", "prev", "at", "actor", "action", "case", "details"}``; its hash is SHA-256 of those
bytes, shown as 64 hex digits; ``prev`` is the previous entry's hash, 64 zeros for the first;
``seq`` counts from 1. ``details`` is a JSON object of strings, integers, booleans, lists and
objects (no floats: canonical JSON carries integers only). This module only defines and checks the
chain; the workbench stores the entries.

API (small on purpose)::

    e1 = append(None, at="2026-11-23T10:00Z", actor=key_id, action="case.create", case=c)
    e2 = append(e1, at=..., actor=..., action="case.decide", case=c, details={"decision": "adtt"})
    problems = verify([e1, e2], checkpoints=[cp])        # [] when intact
    cp = sign_checkpoint(e2, signing_key, signer="Compliance", at="2026-11-23")
    Checkpoint.from_bytes(cp.to_bytes())                   # a file the compliance officer keeps

    entry.to_dict() / Entry.from_dict(d)                   # plain dict, for storage
    entry.to_bytes() / entry.hash                          # the hashed canonical bytes, its hash
    export_lines(entries) / load_export(path)              # JSON Lines export, see below

What verify detects and what it cannot:

* an entry whose stored hash no longer matches its content (``edited``);
* an entry changed so that the next entry's ``prev`` no longer matches (``edited``);
* missing sequence numbers, including the first entries (``deleted``);
* a duplicated sequence number or a foreign entry spliced in (``inserted``);
* a sequence number lower than its predecessor's (``reordered``).

A hash chain alone cannot notice that the newest entries were dropped, or that everything from
some entry on was rewritten with freshly computed hashes: whoever holds the database can do that.
A **signed checkpoint** closes that gap: a compliance officer signs (Ed25519, their own key)
the head hash and its ``seq`` and keeps the small file away from the workbench. Later, ``verify``
with that checkpoint reports ``truncated`` if the log now ends before the checkpoint's ``seq``,
and ``rewritten`` if the entry at that ``seq`` has a different hash.

Export format read by ``peluit audit verify``: JSON Lines, one entry per line, each line the
canonical JSON of the seven fields plus ``"hash"`` (the hash the workbench stored when it wrote
the entry), in the order the workbench holds them. A vault directory is read at one place only:
the SQLite table ``audit_log`` (columns ``seq``, ``entry`` = the canonical bytes, ``hash``) of
``<vault>/workbench.sqlite``, the file the workbench writes. Any other file there that could pass
for a log (``*.jsonl``, ``*.json`` lines, another ``*.sqlite``/``*.sqlite3``/``*.db``) makes the
directory a refusal: a planted clean log must never be verified instead of the real one.
``load_source`` says which source it read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from crypto.encoding import b64decode, b64encode, canonical_json, parse_canonical_json
from crypto.errors import MalformedError
from crypto.keys import SignKeyId, sign_key_id

GENESIS = "0" * 64
FIELDS = ("seq", "prev", "at", "actor", "action", "case", "details")
CHECKPOINT_FORMAT = "peluit-audit-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_DOMAIN = b"peluit-audit-checkpoint-v1\0"
MAX_LINE_BYTES = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class AuditFormatError(ValueError):
    """An export, a vault or a checkpoint file is not in the documented format."""


@dataclass(frozen=True)
class Entry:
    """One audit-log entry. ``stored_hash`` is what the store said the hash was (None when it
    keeps none); it is not part of the hashed content."""

    seq: int
    prev: str
    at: str
    actor: str
    action: str
    case: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    stored_hash: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 1:
            raise AuditFormatError("seq must be a positive integer")
        if not isinstance(self.prev, str) or not _HEX64.match(self.prev):
            raise AuditFormatError("prev must be 64 lowercase hex digits")
        for name in ("at", "actor", "action"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise AuditFormatError(f"{name} must be a non-empty string")
        if self.case is not None and not isinstance(self.case, str):
            raise AuditFormatError("case must be a string or null")
        if not isinstance(self.details, Mapping):
            raise AuditFormatError("details must be an object")

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "prev": self.prev, "at": self.at, "actor": self.actor,
                "action": self.action, "case": self.case, "details": dict(self.details)}

    def to_bytes(self) -> bytes:
        """The exact bytes the hash covers."""
        try:
            return canonical_json(self.to_dict())
        except ValueError as exc:
            raise AuditFormatError(f"details cannot be hashed: {exc}") from None

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Entry:
        """Build from a stored dict; a ``hash`` key, if present, becomes ``stored_hash``."""
        if not isinstance(d, Mapping) or not set(FIELDS) <= set(d) or set(d) - {*FIELDS, "hash"}:
            raise AuditFormatError("not an audit entry (wrong fields)")
        stored = d.get("hash")
        if stored is not None and (not isinstance(stored, str) or not _HEX64.match(stored)):
            raise AuditFormatError("stored hash must be 64 lowercase hex digits")
        return cls(*(d[k] for k in FIELDS), stored_hash=stored)


def append(prev: Entry | None, *, at: str, actor: str, action: str, case: str | None = None,
           details: Mapping[str, Any] | None = None) -> Entry:
    """The entry that follows ``prev`` (None for the first entry of a log)."""
    entry = Entry(seq=1 if prev is None else prev.seq + 1,
                  prev=GENESIS if prev is None else prev.hash,
                  at=at, actor=actor, action=action, case=case, details=dict(details or {}))
    entry.to_bytes()  # refuse unhashable details now, not when someone verifies
    return entry


@dataclass(frozen=True)
class Problem:
    """Something wrong with a log. ``kind`` is one of: edited, deleted, inserted, reordered,
    truncated, rewritten, checkpoint."""

    kind: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}: " if self.seq is not None else ""
        return f"{self.kind}: {where}{self.message}"


def _chain_problems(entries: Sequence[Entry], first_seq: int = 1) -> list[Problem]:
    problems: list[Problem] = []
    hashes = [e.hash for e in entries]
    index_of = {h: i for i, h in enumerate(hashes)}
    for i, e in enumerate(entries):
        if e.stored_hash is not None and e.stored_hash != hashes[i]:
            problems.append(Problem("edited", e.seq, "content does not match its stored hash"))
        if i == 0:
            if e.seq != first_seq:
                problems.append(Problem(
                    "deleted", e.seq,
                    f"log starts at seq {e.seq}: entries {first_seq}–{e.seq - 1} missing"))
            elif first_seq == 1 and e.prev != GENESIS:
                problems.append(Problem("inserted", e.seq, "first entry does not start the chain"))
            continue
        p = entries[i - 1]
        if e.seq == p.seq:
            problems.append(Problem("inserted", e.seq, "sequence number occurs twice"))
        elif e.seq < p.seq:
            problems.append(Problem("reordered", e.seq, f"comes after seq {p.seq}"))
        elif e.seq > p.seq + 1:
            gap = f"{p.seq + 1}" if e.seq == p.seq + 2 else f"{p.seq + 1}–{e.seq - 1}"
            problems.append(Problem("deleted", e.seq, f"entries {gap} missing before it"))
        elif e.prev != hashes[i - 1]:
            j = index_of.get(e.prev)
            if j is not None and j != i - 1:
                problems.append(Problem("reordered", e.seq,
                                        f"links to seq {entries[j].seq}, not to seq {p.seq}"))
            elif e.prev == GENESIS:
                problems.append(Problem("inserted", e.seq, "a second chain start in the log"))
            else:
                problems.append(Problem("edited", p.seq,
                                        f"no longer matches the link stored in seq {e.seq}"))
    return problems


def verify_window(entries: Iterable[Entry]) -> list[Problem]:
    """The chain checks of ``verify`` for the newest part of a log, which may start after seq 1
    (what a gateway sends of its admin log): the first entry's link to the one before it is
    left to the caller, who may know that entry's hash."""
    entries = list(entries)
    return _chain_problems(entries, entries[0].seq if entries else 1)


def verify(entries: Iterable[Entry], checkpoints: Iterable[Checkpoint] = (),
           trusted: Iterable[VerifyKey] | None = None) -> list[Problem]:
    """Every problem found in ``entries`` (in stored order) and against ``checkpoints``; an
    empty list means intact. With ``trusted``, a checkpoint must be signed by one of those keys
    (otherwise its own embedded key is checked and the caller must compare the fingerprint)."""
    entries = list(entries)
    problems = _chain_problems(entries)
    trusted_ids = None if trusted is None else {sign_key_id(k) for k in trusted}
    by_seq: dict[int, Entry] = {}
    for e in entries:
        by_seq.setdefault(e.seq, e)
    last = max(by_seq, default=0)
    for cp in checkpoints:
        if trusted_ids is not None and cp.key_id not in trusted_ids:
            problems.append(Problem("checkpoint", cp.seq, "checkpoint signed by an untrusted key"))
            continue
        entry = by_seq.get(cp.seq)
        if entry is None:
            if cp.seq > last:
                problems.append(Problem("truncated", cp.seq,
                                        f"checkpoint covers seq {cp.seq}, the log ends at {last}"))
            else:
                problems.append(Problem("deleted", cp.seq, "the checkpointed entry is missing"))
        elif entry.hash != cp.head:
            problems.append(Problem("rewritten", cp.seq,
                                    "the log up to this entry differs from the signed checkpoint"))
    return problems


@dataclass(frozen=True)
class Checkpoint(SignKeyId):
    """A signed statement "the log had this head at this seq", kept by a compliance officer."""

    seq: int
    head: str
    at: str
    signer: str
    sign_key: VerifyKey
    signature: bytes

    def _unsigned(self) -> dict[str, Any]:
        return {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "seq": self.seq,
                "head": self.head, "at": self.at, "signer": self.signer,
                "sign_key": b64encode(bytes(self.sign_key))}

    def to_bytes(self) -> bytes:
        return canonical_json({**self._unsigned(), "signature": b64encode(self.signature)})

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        """Parse and check the signature; raise AuditFormatError on anything wrong."""
        try:
            obj = parse_canonical_json(data.strip(), limit=16 * 1024)
            keys = {"format", "version", "seq", "head", "at", "signer", "sign_key", "signature"}
            if not isinstance(obj, dict) or set(obj) != keys or obj["format"] != CHECKPOINT_FORMAT:
                raise AuditFormatError("not a Peluit audit checkpoint")
            if obj["version"] != CHECKPOINT_VERSION:
                raise AuditFormatError("unsupported checkpoint version")
            if (isinstance(obj["seq"], bool) or not isinstance(obj["seq"], int) or obj["seq"] < 1
                    or not isinstance(obj["head"], str) or not _HEX64.match(obj["head"])
                    or not isinstance(obj["at"], str) or not isinstance(obj["signer"], str)):
                raise AuditFormatError("bad fields in checkpoint")
            cp = cls(obj["seq"], obj["head"], obj["at"], obj["signer"],
                     VerifyKey(b64decode(obj["sign_key"], length=32)),
                     b64decode(obj["signature"], length=64))
        except MalformedError as exc:
            raise AuditFormatError(f"not a Peluit audit checkpoint: {exc}") from None
        try:
            cp.sign_key.verify(CHECKPOINT_DOMAIN + canonical_json(cp._unsigned()), cp.signature)
        except BadSignatureError:
            raise AuditFormatError("checkpoint signature does not verify") from None
        return cp


def sign_checkpoint(head: Entry, signing_key: SigningKey, *, signer: str, at: str) -> Checkpoint:
    """Sign the log's current head. ``at`` is the officer's date (a day is enough)."""
    unsigned = Checkpoint(head.seq, head.hash, at, signer, signing_key.verify_key, b"")
    sig = signing_key.sign(CHECKPOINT_DOMAIN + canonical_json(unsigned._unsigned())).signature
    return Checkpoint(head.seq, head.hash, at, signer, signing_key.verify_key, sig)


def export_lines(entries: Iterable[Entry]) -> Iterable[bytes]:
    """The export format: one canonical JSON line per entry, with its hash."""
    for e in entries:
        yield canonical_json({**e.to_dict(), "hash": e.stored_hash or e.hash}) + b"\n"


def parse_line(raw: bytes, where: str) -> Entry:
    try:
        obj = json.loads(raw.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
        return Entry.from_dict(obj)
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError) as exc:
        msg = str(exc) if isinstance(exc, AuditFormatError) else "not valid JSON"
        raise AuditFormatError(f"{where}: {msg}") from None


def _no_float(value: str) -> Any:
    raise AuditFormatError("numbers other than integers are not allowed")


def load_export(path: Path) -> list[Entry]:
    """Entries from a JSON Lines export (blank lines ignored)."""
    entries = []
    with Path(path).open("rb") as f:
        for n, raw in enumerate(f, 1):
            if len(raw) > MAX_LINE_BYTES:
                raise AuditFormatError(f"line {n}: too long")
            if raw.strip():
                entries.append(parse_line(raw, f"line {n}"))
    return entries


#: The vault database the workbench writes (workbench/db.py DB_FILE; policies cannot import the
#: workbench, dependencies point the other way).
VAULT_DB = "workbench.sqlite"
# Files that could pass for an audit log in a vault directory; SQLite's own side files of the
# real database (-wal, -shm, -journal) are not candidates.
_CANDIDATE_SUFFIXES = (".jsonl", ".sqlite", ".sqlite3", ".db")


def load_vault(path: Path) -> list[Entry]:
    """Entries from a vault directory (see the module docstring) or an export file."""
    return load_source(path)[0]


def load_source(path: Path) -> tuple[list[Entry], str]:
    """Entries and a description of where they were read: an export file, or the audit_log
    table of ``<vault>/workbench.sqlite``. A directory with any other candidate log in it, or
    without that database, is refused (AuditFormatError)."""
    path = Path(path)
    if path.is_file():
        return load_export(path), f"export file {path}"
    if not path.is_dir():
        raise AuditFormatError(f"{path}: no such file or directory")
    others = sorted(p.name for p in path.iterdir()
                    if p.name != VAULT_DB and p.suffix.lower() in _CANDIDATE_SUFFIXES)
    if others:
        raise AuditFormatError(
            f"{path}: refused, more than one candidate audit log ({', '.join(others[:5])} "
            f"besides {VAULT_DB}); the workbench writes none of them: find out who put them "
            "there, then verify the vault again")
    db = path / VAULT_DB
    if not db.is_file():
        raise AuditFormatError(f"{path}: no audit log found (no {VAULT_DB})")
    return _load_sqlite_table(db), f"table audit_log of {db}"


def _load_sqlite_table(db: Path) -> list[Entry]:
    import sqlite3

    # Read-only: verifying must never change the vault it checks.
    try:
        conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise AuditFormatError(f"{db.name}: cannot open ({exc})") from None
    try:
        rows = conn.execute("SELECT seq, entry, hash FROM audit_log ORDER BY rowid").fetchall()
    except sqlite3.Error as exc:
        raise AuditFormatError(f"{db.name}: cannot read the audit log ({exc})") from None
    finally:
        conn.close()
    entries = []
    for seq, raw, stored in rows:
        raw = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        obj_line = raw if stored is None else _with_hash(raw, stored)
        # A row's key may disagree with the seq inside its entry (a moved row): the entry's
        # own, hashed seq is what counts, and verify() reports it out of place.
        entries.append(parse_line(obj_line, f"{db.name} audit_log seq {seq}"))
    return entries


def _with_hash(raw: bytes, stored: str) -> bytes:
    try:
        obj = json.loads(raw.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError):
        return raw
    if isinstance(obj, dict):
        obj["hash"] = stored
    return json.dumps(obj).encode("utf-8")
