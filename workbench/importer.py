"""``peluit workbench import``: an inbox bundle into the vault, all or nothing.

Order of trust: the bundle's signature, signer (a pinned, active server key), deployment id and
sequence number are checked before any member is read (crypto.bundle). Each member is then
hashed as it streams past and decrypted with the team's X25519 keys; the envelope's inner
metadata must name the same report, submission and kind as the signed manifest entry, so a
server cannot move a submission to another report. Files are re-encrypted at once to the vault's
own key pair, into one new pack (filestore.py); no plaintext touches the disk. Everything is
written in one database transaction; any failure rolls it back and removes the pack, so a
refused bundle leaves the vault exactly as it was. A submission already in the vault is
skipped (the reader still checks its hash), and a bundle whose sequence number is not newer
than the last one accepted from its signer is refused, so importing twice changes nothing."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crypto.bundle import BundleReader, InboxEntry, MemberStream
from crypto.encoding import b64decode, valid_day
from crypto.envelope import EnvelopeReader
from crypto.errors import (
    CryptoError,
    MalformedError,
    NotARecipientError,
    ReplayError,
    UnknownSignerError,
)
from crypto.identity import Card
from crypto.keys import usable_box_key
from peluit.ground.clock import Clock

from . import audit, cover, db, escrow, filestore, gatewaylog, trust, vault

_ID = re.compile(r"^[0-9a-f]{32}$")
#: The server key id this vault last confirmed in a reply bundle ("" = a confirmation is due).
CONFIRMED_SETTING = "server_key_confirmed"
MAX_TEXT_BYTES = 16 * 1024 * 1024
MAX_NAME = 255
# How to open a bundle for import_bundle(). Reading alone went faster through 64 KiB, but the
# whole import (small header reads between 64 KiB chunks) was faster through 1 MiB: median
# 160 against 149 MB/s over interleaved runs on the 2-core VMs (bench/workbench_import.py).
READ_BUFFER = 1 << 20


class ImportRefused(Exception):
    """The bundle was refused; nothing was imported. The message is one clear line."""


#: The kind a server's manifest gives every submission; older servers gave the real one.
UNIFORM_KIND = "submission"
MANIFEST_KINDS = (UNIFORM_KIND, *db.SUBMISSION_KINDS)


#: A manifest entry (crypto.bundle.InboxEntry, the gateway's own definition).
Entry = InboxEntry


@dataclass
class ImportResult:
    seq: int
    sender: str
    imported: int = 0
    skipped: int = 0
    #: Sealed to another recipient group (a report about the inspectorate goes to the conflict
    #: group only, dropbox_app/routing.py): not opened, not stored, but acknowledged like ours
    #: (db.OtherGroupAck), so the acknowledgments do not tell the server which group handled
    #: it; the server keeps it until the group it is for acknowledged it too.
    other_group: int = 0
    plaintext_bytes: int = 0
    reports_created: int = 0
    rotated_to: str | None = None
    retired: list[str] = field(default_factory=list)  # server keys no longer trusted
    # Envelopes are sealed to the auditor cards enrolled on the gateway. A recipient that is
    # not an active auditor or lead of this vault means someone enrolled a card the team does
    # not know (and can read what was sealed to it), or a removed colleague's card is still on.
    foreign_keys: set[str] = field(default_factory=set)  # box key ids (hex) of no member
    foreign_submissions: int = 0
    unexpected_members: set[str] = field(default_factory=set)  # removed, or compliance
    # The gateway's admin log (workbench/gatewaylog.py): entries new since the last import, and
    # what did not match what earlier bundles carried.
    gateway_log_new: list[Any] = field(default_factory=list)
    gateway_log_problems: list[str] = field(default_factory=list)
    # Identity in escrow (workbench/escrow.py): (submission id, report id) of the deposits and
    # of the reporters' answers this bundle brought, each recorded in the audit log.
    escrow: list[tuple[str, str, str]] = field(default_factory=list)


Progress = Callable[[int, int, int], None]  # (members done, members total, bundle bytes done)


def _parse_entries(body: dict[str, Any], member_names: list[str]) -> dict[str, Entry]:
    subs = body.get("submissions")
    if not isinstance(subs, list) or set(body) - {"submissions", "rotate_to", "admin_log"}:
        raise ImportRefused("the bundle body is not an inbox body")
    entries: dict[str, Entry] = {}
    ids: set[str] = set()
    usable: dict[bytes, bool] = {}  # a report's submissions share its key: check each key once
    for raw in subs:
        if not isinstance(raw, dict) or set(raw) != {"id", "report", "reporter_key", "kind",
                                                      "member", "day"}:
            raise ImportRefused("a submission entry of the bundle is malformed")
        try:
            key = b64decode(raw["reporter_key"], length=32)
        except MalformedError:
            raise ImportRefused("a submission entry of the bundle is malformed") from None
        if not valid_day(raw["day"]):  # a day, never a finer time
            raise ImportRefused("a submission entry of the bundle has a bad day")
        if key not in usable:
            usable[key] = usable_box_key(key)
        if not usable[key]:
            # Replies sealed to a small-order point could be read by anyone.
            raise ImportRefused("a submission entry of the bundle has an unusable reporter key")
        if not (isinstance(raw["id"], str) and _ID.match(raw["id"])
                and isinstance(raw["report"], str) and _ID.match(raw["report"])
                and raw["kind"] in MANIFEST_KINDS and isinstance(raw["member"], str)):
            raise ImportRefused("a submission entry of the bundle is malformed")
        if raw["member"] in entries or raw["id"] in ids:
            raise ImportRefused("the bundle lists a submission twice")
        ids.add(raw["id"])
        entries[raw["member"]] = Entry(raw["id"], raw["report"], key, raw["kind"],
                                       raw["member"], raw["day"])
    if set(entries) != set(member_names) or len(member_names) != len(entries):
        raise ImportRefused("the bundle's members and its list of submissions do not match")
    return entries


def _with_sealed_kind(entry: Entry, meta: dict[str, Any]) -> Entry:
    """The entry with its real kind. A server lists every submission as ``submission`` (so a
    seized server cannot tell a retaliation report or a file from any other); the kind is then
    the one in the envelope's sealed metadata. Bundles from servers before that name the kind in
    the manifest, and the sealed one must match it (checked by _check_metadata)."""
    if entry.kind != UNIFORM_KIND:
        return entry
    kind = meta.get("kind")
    if kind not in db.SUBMISSION_KINDS:
        raise ImportRefused(f"submission {entry.id}: unexpected sealed metadata")
    return replace(entry, kind=kind)


def _check_metadata(meta: dict[str, Any], entry: Entry) -> dict[str, Any]:
    if (meta.get("v") != 1 or meta.get("kind") != entry.kind or meta.get("report") != entry.report
            or meta.get("submission") != entry.id):
        raise ImportRefused(f"submission {entry.id}: its sealed metadata does not match the "
                            "signed manifest (moved or substituted)")
    extra = {"name", "content_type"} if entry.kind == "file" else set()
    if set(meta) != {"v", "kind", "report", "submission"} | extra:
        raise ImportRefused(f"submission {entry.id}: unexpected sealed metadata")
    if entry.kind == "file":
        name, ctype = meta["name"], meta["content_type"]
        if not (isinstance(name, str) and 0 < len(name) <= MAX_NAME
                and isinstance(ctype, str) and len(ctype) <= 255):
            raise ImportRefused(f"submission {entry.id}: bad file name or type")
    return meta


def _check_text(kind: str, body: Any, sid: str) -> dict[str, Any]:
    ok = isinstance(body, dict)
    if ok and kind == "report":
        # All strings. An empty "what" is the reporter app's to refuse; refusing it here would
        # block every other submission of the bundle.
        ok = all(isinstance(k, str) and isinstance(v, str) for k, v in body.items())
    elif ok and kind == "message":
        # author_key: the reporter's authorship public key, sent by a logged-in session
        # (workbench/authorship.py); the report's body may carry it too.
        ok = set(body) - {"author_key"} == {"text", "in_reply_to"} and isinstance(
            body["text"], str) and (body["in_reply_to"] is None
                                    or isinstance(body["in_reply_to"], str)) and isinstance(
            body.get("author_key", ""), str)
    elif ok and kind == "retaliation":
        ok = set(body) == {"text"} and isinstance(body["text"], str)
    if not ok:
        raise ImportRefused(f"submission {sid}: its content is not a {kind} as documented")
    return body


def _read_text(reader: EnvelopeReader, sid: str) -> tuple[bytes, str]:
    parts, total, h = [], 0, hashlib.sha256()
    for chunk in reader.chunks():
        total += len(chunk)
        if total > MAX_TEXT_BYTES:
            raise ImportRefused(f"submission {sid}: text larger than allowed")
        h.update(chunk)
        parts.append(chunk)
    return b"".join(parts), h.hexdigest()


def _trusted(session: Session) -> dict[str, Any]:
    rows = session.scalars(select(db.ServerCard).where(db.ServerCard.active.is_(True))).all()
    return {r.key_id: Card.from_bytes(r.card).sign_key for r in rows}


def _last_seq(session: Session, direction: str) -> Callable[[str], int | None]:
    def last(key_id: str) -> int | None:
        row = session.get(db.BundleSequence, (direction, key_id))
        return row.seq if row else None
    return last


def _rotate(session: Session, old: str, raw: Any, today: str) -> str:
    """Pin the server key that the old key announces, and keep trusting the old one: the
    gateway keeps signing with it until a reply bundle from this vault confirms the new key
    (exporter: ``server_key``), so bundles signed by either import meanwhile. An announcement
    repeated (the gateway re-announces until it hears back) changes nothing; the old key
    announcing a different key than before is refused."""
    try:
        if not isinstance(raw, str):
            raise MalformedError("not a string")
        card = Card.from_bytes(raw.encode("utf-8"))
    except CryptoError:
        raise ImportRefused("the bundle announces a new server key, but its card is not "
                            "valid") from None
    if card.kind != "server":
        raise ImportRefused("the bundle announces a new server key that is not a server card")
    if card.key_id == old:
        return card.key_id
    old_row = session.get(db.ServerCard, old)
    assert old_row is not None
    if old_row.replaced_by is not None and old_row.replaced_by != card.key_id:
        raise ImportRefused("the bundle announces another new server key than the one this "
                            "key announced before")
    known = session.get(db.ServerCard, card.key_id)
    if known is None:
        session.add(db.ServerCard(key_id=card.key_id, card=card.to_bytes(), pinned_day=today,
                                  active=True))
    elif not (known.active and old_row.replaced_by == card.key_id):
        raise ImportRefused("the bundle announces a server key that was pinned before")
    old_row.replaced_by = card.key_id  # retired once the new key signs a bundle
    # The next reply bundle must carry the confirmation, even with nothing else in it.
    db.set_setting(session, CONFIRMED_SETTING, "")
    return card.key_id


def _retire_replaced(session: Session, signer: str) -> list[str]:
    """A bundle signed by a new key shows the gateway switched: the key it replaced (trusted
    until now, while the gateway waited for the confirmation) is never trusted again."""
    retired = []
    for row in session.scalars(select(db.ServerCard).where(
            db.ServerCard.active.is_(True), db.ServerCard.replaced_by == signer)):
        row.active = False
        retired.append(row.key_id)
    return sorted(retired)


def _refusal(exc: CryptoError) -> ImportRefused:
    if isinstance(exc, ReplayError):
        return ImportRefused(f"bundle refused: already imported or older than the last one ({exc})")
    if isinstance(exc, UnknownSignerError):
        return ImportRefused(f"bundle refused: not from the pinned server ({exc})")
    if isinstance(exc, NotARecipientError):
        return ImportRefused("bundle refused: a submission was not sealed to anyone in this vault")
    return ImportRefused(f"bundle refused: {exc}")


def import_bundle(unlocked: vault.Unlocked, src: BinaryIO, progress: Progress | None = None,
                  today: str | None = None) -> ImportResult:
    """Import one inbox bundle into the vault of ``unlocked``; raise ImportRefused on any fault."""
    vault_key = unlocked.require_content()
    today = today or Clock().today().isoformat()
    engine = db.make_engine(unlocked.path)
    try:
        db.create_schema(engine)
        # What an import killed half-way left (a temp pack, a pack no row names) goes first.
        filestore.sweep(unlocked.path, lambda: _pack_paths(engine))
        pack = filestore.PackWriter(unlocked.path, vault.vault_box_key(vault_key).public_key)
        with db.unlocked(vault_key), Session(engine) as session:
            try:
                with session.begin():
                    result = _import(session, unlocked, src, pack, progress, today)
                    if pack.count:
                        pack.finish()  # durable before the rows that point at it commit
                    else:
                        pack.discard()
            except BaseException:
                pack.discard()
                raise
            pack.release()  # the rows are committed: the pack is no orphan
        return result
    except CryptoError as exc:
        raise _refusal(exc) from None
    except trust.TamperedVault as exc:
        raise ImportRefused(str(vault.refuse_tampered(engine, exc, unlocked.key_id, vault_key))
                            ) from None
    finally:
        engine.dispose()


def _pack_paths(engine: Any) -> set[str]:
    """The packs committed rows point at (a plain column: no vault key needed)."""
    with engine.connect() as conn:
        return {p for p in conn.scalars(select(db.Submission.file_path).distinct()) if p}


def _import(session: Session, unlocked: vault.Unlocked, src: BinaryIO,
            pack: filestore.PackWriter, progress: Progress | None, today: str) -> ImportResult:
    deployment = db.get_setting(session, "deployment")
    if not deployment:
        # Never "no id, no check": without it a bundle of any deployment would pass.
        raise ImportRefused("the vault has no deployment id, so no bundle can be checked "
                            "against it; refused")
    reader = BundleReader(src, _trusted(session), "inbox", _last_seq(session, "inbox"),
                          deployment)
    manifest = reader.manifest
    entries = _parse_entries(manifest.body, [m.name for m in manifest.members])
    try:
        admin_log = gatewaylog.parse(manifest.body.get("admin_log"))
    except gatewaylog.GatewayLogError as exc:
        raise ImportRefused(str(exc)) from None
    result = ImportResult(manifest.seq, manifest.sender)
    ids = [e.id for e in entries.values()]
    known: dict[str, str] = {}
    for start in range(0, len(ids), 500):  # SQLite limits the number of bound parameters
        known.update((sid, rid) for sid, rid in session.execute(
            select(db.Submission.id, db.Submission.report_id).where(
                db.Submission.id.in_(ids[start:start + 500]))))
    # Left for the other group by an earlier bundle: tried again all the same (a row planted
    # in the vault file, which its seal does not cover, must not make it skip one of ours),
    # but recorded once.
    left_before: set[str] = set()
    for start in range(0, len(ids), 500):
        left_before.update(session.scalars(
            select(db.OtherGroupAck.id).where(db.OtherGroupAck.id.in_(ids[start:start + 500]))))
    batch = _Batch(session, vault.box_keys(session, unlocked.require_content()), pack, result,
                   {e.report for e in entries.values() if e.id not in known})
    total = len(manifest.members)
    done_bytes = 0
    for n, stream in enumerate(reader.members(), 1):
        entry = entries[stream.member.name]
        done_bytes += stream.member.size
        if entry.id in known:
            if known[entry.id] != entry.report:
                raise ImportRefused(f"submission {entry.id} was already filed under another "
                                    "report")
            result.skipped += 1
            stream.drain()  # still verifies the member's hash
        else:
            try:
                batch.add(entry, stream)
            except NotARecipientError:
                # Every slot was tried with every key of this vault (crypto/envelope.py): it is
                # another group's. The member's hash is still checked.
                result.other_group += 1
                stream.drain()
                if entry.id not in left_before:
                    session.add(db.OtherGroupAck(id=entry.id, import_seq=manifest.seq))
        if progress:
            progress(n, total, done_bytes)
    try:
        cover.record(session, entries.values(), unlocked.require_content())
    except cover.CoverMismatch as exc:
        raise ImportRefused(str(exc)) from None
    batch.write()
    for kind, sid, report in result.escrow:  # that they arrived: ids only, never content
        audit.record(session, unlocked.key_id, f"escrow.{kind}.import",
                     details={"submission": sid, "report": report, "seq": manifest.seq})
    seq_row = session.get(db.BundleSequence, ("inbox", manifest.sender))
    if seq_row is None:
        session.add(db.BundleSequence(direction="inbox", key_id=manifest.sender,
                                      seq=manifest.seq))
    else:
        seq_row.seq = manifest.seq
    # The carrying schedule (policies.clocks CARRYING): the day the last inbox bundle came in,
    # for the home page's "bundle overdue" warning.
    carried = session.get(db.Setting, db.CARRIED_SETTING)
    if carried is None:
        session.add(db.Setting(name=db.CARRIED_SETTING, value=today))
    else:
        carried.value = today
    if "rotate_to" in manifest.body:
        result.rotated_to = _rotate(session, manifest.sender, manifest.body["rotate_to"], today)
    result.retired = _retire_replaced(session, manifest.sender)
    log = gatewaylog.merge(session, admin_log, today)
    result.gateway_log_new = log.new
    result.gateway_log_problems = [str(p) for p in log.problems]
    audit.record(session, unlocked.key_id, "bundle.import", details={
        "seq": manifest.seq, "sender": manifest.sender, "imported": result.imported,
        "skipped": result.skipped, "other_group": result.other_group,
        "rotated_to": result.rotated_to,
        "retired_server_keys": result.retired,
        "foreign_keys": sorted(result.foreign_keys),
        "foreign_submissions": result.foreign_submissions,
        "unexpected_members": sorted(result.unexpected_members),
        "gateway_log_new": len(result.gateway_log_new),
        "gateway_log_problems": result.gateway_log_problems})
    return result


class _Batch:
    """The rows of one import, inserted in batches as the loop goes (Core bulk inserts: the ORM's
    per-object bookkeeping cost more than the cryptography for ten thousand submissions).

    A file's row can only be inserted once the pack's worker has stored the file (its size,
    hash and place come from there), so each batch takes the rows whose files are done. The
    inserts run while the worker encrypts, instead of all at the end with one core idle; they
    are all in the import's one transaction, so a refused bundle still leaves nothing."""

    INSERT_EVERY = 250

    def __init__(self, session: Session, keys: list[Any], pack: filestore.PackWriter,
                 result: ImportResult, report_ids: set[str]):
        self.session = session
        self.keys = keys
        self.pack = pack
        self.result = result
        # The reporter keys the vault already holds for the bundle's reports, fetched up front
        # in a few queries (one ORM get per report cost a millisecond each).
        self.reporter_keys: dict[str, bytes] = {}
        wanted = sorted(report_ids)
        for start in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            self.reporter_keys.update((rid, bytes(key)) for rid, key in session.execute(
                select(db.Report.id, db.Report.reporter_key).where(
                    db.Report.id.in_(wanted[start:start + 500]))))
        # Who may be a recipient: active auditors and leads. Everyone the vault ever had, by
        # box key id, to tell a removed colleague from a stranger.
        self.expected: set[bytes] = set()
        self.members: dict[bytes, str] = {}
        for name, role, active, card in session.execute(select(
                db.Auditor.name, db.Auditor.role, db.Auditor.active, db.Auditor.card)):
            kid = Card.from_bytes(card).box_key_id
            if kid is not None:
                self.members[kid] = name
                if active and role in vault.CONTENT_ROLES:
                    self.expected.add(kid)
        self.new_reports: list[dict[str, Any]] = []
        # Rows not inserted yet, in order, each with the index of its file in the pack (None
        # for text kinds, whose row is complete at once).
        self.pending: list[tuple[dict[str, Any], int | None]] = []
        self.seq = (session.scalar(select(func.max(db.Submission.seq))) or 0) + 1

    def _check_report(self, entry: Entry) -> None:
        known = self.reporter_keys.get(entry.report)
        if known is None:  # neither in the vault nor earlier in this bundle
            self.new_reports.append({"id": entry.report, "reporter_key": entry.reporter_key,
                                     "channel": "web", "received_day": entry.day})
            self.result.reports_created += 1
            known = self.reporter_keys[entry.report] = entry.reporter_key
        if known != entry.reporter_key:
            # Replies are sealed to this key: a server must not be able to swap it.
            raise ImportRefused(f"report {entry.report}: the bundle gives another reporter key "
                                "than the vault knows")

    def _check_recipients(self, recipient_ids: tuple[bytes, ...]) -> None:
        unexpected = [kid for kid in recipient_ids if kid not in self.expected]
        if not unexpected:
            return
        foreign = [kid.hex() for kid in unexpected if kid not in self.members]
        if foreign:
            self.result.foreign_keys.update(foreign)
            self.result.foreign_submissions += 1
        self.result.unexpected_members.update(self.members[kid] for kid in unexpected
                                              if kid in self.members)

    def add(self, entry: Entry, stream: MemberStream) -> None:
        reader = EnvelopeReader(stream, self.keys)
        self._check_recipients(reader.recipient_ids)
        entry = _with_sealed_kind(entry, reader.metadata)
        meta = _check_metadata(reader.metadata, entry)
        self._check_report(entry)
        row: dict[str, Any] = {
            "id": entry.id, "seq": self.seq, "report_id": entry.report, "kind": entry.kind,
            "received_day": entry.day, "import_seq": self.result.seq, "content": None,
            "file_name": None, "content_type": None, "file_path": None, "file_offset": None,
            "file_length": None, "ack_seq": None, "ack_by": None}
        if entry.kind == "file":
            # Size, hash and place come from the pack's worker; filled in by _insert_ready().
            row.update(file_name=meta["name"], content_type=meta["content_type"])
            self.pending.append((row, self.pack.add(entry.id, reader.views())))
        else:
            raw, digest = _read_text(reader, entry.id)
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):  # too deep: refused too
                raise ImportRefused(f"submission {entry.id}: its content is not UTF-8 JSON"
                                    ) from None
            try:
                if entry.kind == "deposit":  # nothing here can open it: only its shape
                    content = escrow.check_deposit(raw, entry.id, entry.report,
                                                   entry.reporter_key)
                elif entry.kind == "consent":
                    content = escrow.check_consent(body, entry.id)
                else:
                    content = _check_text(entry.kind, body, entry.id)
            except escrow.EscrowError as exc:
                raise ImportRefused(str(exc)) from None
            row.update(size=len(raw), sha256=digest, content=content)
            self.pending.append((row, None))
        if entry.kind in escrow.KINDS:
            self.result.escrow.append((entry.kind, entry.id, entry.report))
        self.seq += 1
        self.result.imported += 1
        if len(self.pending) >= self.INSERT_EVERY:
            self._insert_ready(self.pack.done())

    def _insert_ready(self, stored: list[filestore.Stored]) -> None:
        """Insert the pending rows, in order, up to the first whose file is not stored yet."""
        ready = 0
        for row, index in self.pending:
            if index is not None:
                if index >= len(stored):
                    break
                s = stored[index]
                row.update(size=s.size, sha256=s.sha256, file_path=s.path,
                           file_offset=s.offset, file_length=s.length)
            ready += 1
        if not ready:
            return
        rows = [row for row, _ in self.pending[:ready]]
        del self.pending[:ready]
        if self.new_reports:  # before the submissions that point at them
            self.session.execute(insert(db.Report), self.new_reports)
            self.new_reports = []
        self.session.execute(insert(db.Submission), rows)
        self.result.plaintext_bytes += sum(row["size"] for row in rows)

    def write(self) -> None:
        """Wait for the pack's worker and insert what is left."""
        self._insert_ready(self.pack.results() if self.pack.count else [])
        assert not self.pending and not self.new_reports
