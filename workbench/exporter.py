"""``peluit workbench export-replies``: everything written since the last export, as one reply
bundle signed by the exporting auditor (docs/engineering.md, "Bundle bodies").

Questions, messages and coarse statuses (the latest per report) travel in entries sealed to
the reporter's public key alone, one for every report the vault covers, real or filler, all of
one size (crypto/replyentry.py, cover.py): the server can read none of them, nor tell which
reports this group works on. Acks name the submissions this vault holds (and those it left for
the other group), so the server may delete its copies after its retention. The bundle's
sequence number is the next one for the exporting auditor's key. The file appears complete or
not at all, and the rows are marked exported in the same transaction; if the transaction fails,
the file goes."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PublicKey
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from crypto import bundle, replyentry
from crypto.encoding import canonical_json
from crypto.errors import CryptoError
from peluit.ground.clock import Clock
from peluit.ground.files import fsync_dir, remove_temps, temp_beside

from . import audit, authorship, cover, db, escrow, trust, vault
from .importer import CONFIRMED_SETTING


class ExportRefused(Exception):
    """The export cannot be made; the message is one clear line."""


class NothingToExport(ExportRefused):
    """No reply, status change or acknowledgment is waiting."""


@dataclass
class ExportResult:
    seq: int
    replies: int
    statuses: int
    acks: int
    path: Path
    entries: int = 0  # one per covered report (crypto/replyentry.py)
    held: int = 0  # questions, messages and status changes left for a later bundle


def export_replies(unlocked: vault.Unlocked, out: Path, today: dt.date | None = None,
                   resend_from: int | None = None,
                   progress: Callable[[int, int, int], None] | None = None) -> ExportResult:
    """Write the next reply bundle to ``out``. ``resend_from``: also carry again what this
    auditor's bundles from that sequence number on carried, for when they never reached the
    gateway (which refuses a reply it already holds, so use it only for lost bundles).
    ``progress(done, total, bytes)`` is told after each reply is sealed (the CLI's bar)."""
    vault_key = unlocked.require_content()
    out = Path(out)
    if not out.parent.is_dir():
        raise ExportRefused(f"{out.parent} is not a directory")
    # A bundle to this name whose export was killed before its rename: its temp goes first.
    remove_temps(out.parent, f".{out.name}.")
    engine = db.make_engine(unlocked.path)
    tmp = temp_beside(out)
    renamed = False
    try:
        db.create_schema(engine)
        if out.exists():
            if not _unrecorded_export(engine, unlocked, out):
                raise ExportRefused(f"{out} exists already: an earlier bundle may still have to "
                                    "go; choose another name")
            out.unlink()  # killed after its rename, before the vault recorded it: made again
        with db.unlocked(vault_key), Session(engine) as session, session.begin():
            result = _export(session, unlocked, tmp, today or Clock().today(), resend_from,
                             progress)
            os.replace(tmp, out)
            renamed = True
            fsync_dir(out.parent)
        return ExportResult(result.seq, result.replies, result.statuses, result.acks, out,
                            result.entries, result.held)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if renamed:
            out.unlink(missing_ok=True)  # written, but the vault did not record it
        if isinstance(exc, trust.TamperedVault):  # refused, and in the audit log
            raise vault.refuse_tampered(engine, exc, unlocked.key_id, vault_key) from None
        raise
    finally:
        engine.dispose()


def _unrecorded_export(engine: Any, unlocked: vault.Unlocked, out: Path) -> bool:
    """Whether ``out`` is a reply bundle this auditor signed for this deployment whose number
    the vault never recorded: an export killed between putting its file in place and the
    vault's commit. Its rows are still pending, so the next export carries them again under
    the same number; keeping the file would leave two different bundles with one number, and
    the gateway would refuse whichever came second as a replay."""
    with db.unlocked(unlocked.require_content()), Session(engine) as session:
        deployment = db.get_setting(session, "deployment")
        seq_row = session.get(db.BundleSequence, ("reply", unlocked.key_id))
        last = seq_row.seq if seq_row else 0
    if not deployment:
        return False
    try:
        with open(out, "rb") as f:
            reader = bundle.BundleReader(
                f, {unlocked.key_id: unlocked.identity.signing.verify_key}, "reply",
                lambda _sender: last, deployment)
    except (OSError, CryptoError, ValueError):
        return False  # not ours, or already recorded (a replay of what went): never removed
    return reader.manifest.seq == last + 1


def _pending(model: Any, seq_col: Any, by_col: Any, key_id: str, resend_from: int | None
             ) -> Any:
    """Rows not exported yet, and with ``resend_from`` those this key exported from there on."""
    cond = seq_col.is_(None)
    if resend_from is not None:
        cond = or_(cond, and_(by_col == key_id, seq_col >= resend_from))
    return select(model).where(cond)


def newest_server_key(session: Session) -> str | None:
    """The server key this vault trusts that no other replaces (after a rotation was
    announced: the new one, while the old stays trusted until the new one signs)."""
    rows = session.scalars(select(db.ServerCard.key_id).where(
        db.ServerCard.active.is_(True), db.ServerCard.replaced_by.is_(None))).all()
    return rows[0] if len(rows) == 1 else None


def _export(session: Session, unlocked: vault.Unlocked, tmp: Path, today: dt.date,
            resend_from: int | None,
            progress: Callable[[int, int, int], None] | None = None) -> ExportResult:
    key_id = unlocked.key_id
    deployment = db.get_setting(session, "deployment")
    if not deployment:
        raise ExportRefused("the vault has no deployment id, so its bundles cannot name one; "
                            "refused")
    seq_row = session.get(db.BundleSequence, ("reply", key_id))
    last = seq_row.seq if seq_row else 0
    if resend_from is not None and not 1 <= resend_from <= last:
        raise ExportRefused(f"you have exported reply bundles 1 to {last}; cannot resend from "
                            f"{resend_from}")
    replies = session.scalars(_pending(db.Reply, db.Reply.exported_seq, db.Reply.exported_by,
                                       key_id, resend_from).order_by(db.Reply.seq)).all()
    changes = session.scalars(_pending(
        db.StatusChange, db.StatusChange.exported_seq, db.StatusChange.exported_by, key_id,
        resend_from).order_by(db.StatusChange.id)).all()
    acks = session.scalars(_pending(db.Submission, db.Submission.ack_seq, db.Submission.ack_by,
                                    key_id, resend_from).order_by(db.Submission.seq)).all()
    # Submissions left for the other recipient group are acknowledged like ours: the server
    # must not tell from the acknowledgments which group handled a submission.
    others = session.scalars(_pending(db.OtherGroupAck, db.OtherGroupAck.ack_seq,
                                      db.OtherGroupAck.ack_by, key_id, resend_from)
                             .order_by(db.OtherGroupAck.import_seq, db.OtherGroupAck.id)).all()
    server_key = newest_server_key(session)
    # A rotation imported since the last export: the gateway waits for this confirmation.
    confirmation_due = db.get_setting(session, CONFIRMED_SETTING) == ""
    seq = last + 1
    entries = _entries(session, unlocked, replies, changes, seq)
    # A vault that covers a report always makes a bundle, with something to say or not: the
    # carrying schedule asks every group for one every working day, so the days a group
    # uploads do not tell the server when it had something to send.
    if not (entries.items or acks or others or confirmation_due):
        raise NothingToExport("nothing to export: no new question, status or import")
    members: dict[str, bytes] = {}
    body_replies = []
    sealed_bytes = 0
    for n, (report_id, entry_id, data) in enumerate(entries.sealed(), 1):
        name = f"{entry_id}.env"
        members[name] = data
        body_replies.append({"id": entry_id, "report": report_id, "kind": replyentry.KIND,
                             "member": name})
        if progress is not None:
            sealed_bytes += len(data)
            progress(n, len(entries.items), sealed_bytes)
    for s in (*acks, *others):
        s.ack_seq, s.ack_by = seq, key_id
    # One sorted list, so ours do not come first; a set, so an id in both tables (a row
    # planted in the vault file) cannot make the server refuse the bundle as a double ack.
    acked = sorted({s.id for s in (*acks, *others)})
    body = {"acks": acked, "replies": body_replies}
    if server_key is not None:
        # Which server key this vault trusts now: a gateway waiting to switch to it does so.
        body["server_key"] = server_key
        db.set_setting(session, CONFIRMED_SETTING, server_key)
    manifest = bundle.make_manifest(
        "reply", deployment, unlocked.identity.signing, seq,
        [bundle.Member(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in members.items()],
        body, today=today)
    if len(manifest.to_bytes()) > bundle.MAX_MANIFEST:
        # About 280 bytes of manifest an entry: some 120,000 covered reports. The cover cannot
        # be split over bundles (each must cover every report), so say so instead of failing
        # halfway through the file.
        raise ExportRefused(f"the bundle would cover {len(entries.items)} reports, more than "
                            "one bundle's manifest holds; refused, nothing was exported")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        bundle.write_bundle(f, manifest, unlocked.identity.signing,
                            lambda name: io.BytesIO(members[name]))
        f.flush()
        os.fsync(f.fileno())
    # For the home page's "reply bundle overdue" (cases/inbox.py): the schedule is the cover's.
    db.set_setting(session, db.EXPORTED_SETTING, today.isoformat())
    if seq_row is None:
        session.add(db.BundleSequence(direction="reply", key_id=key_id, seq=seq))
    else:
        seq_row.seq = seq
    audit.record(session, key_id, "bundle.export", details={
        "seq": seq, "replies": entries.replies, "statuses": entries.statuses,
        "acks": len(acked), "entries": len(entries.items), "held": entries.held,
        "resend_from": resend_from})
    return ExportResult(seq, entries.replies, entries.statuses, len(acked), tmp,
                        len(entries.items), entries.held)


@dataclass
class _Entries:
    """A bundle's entries: one per covered report, each (report id, entry id, reporter key,
    unpadded body)."""

    items: list[tuple[str, str, bytes, dict[str, Any]]]
    replies: int = 0
    statuses: int = 0
    held: int = 0

    @property
    def sent(self) -> bool:
        return bool(self.replies or self.statuses)

    def sealed(self) -> list[tuple[str, str, bytes]]:
        bodies = replyentry.uniform([b for _r, _e, _k, b in self.items])
        return [(rid, eid, replyentry.seal(data, PublicKey(key), rid, eid))
                for (rid, eid, key, _b), data in zip(self.items, bodies, strict=True)]


def _entries(session: Session, unlocked: vault.Unlocked, replies: list[db.Reply],
             changes: list[db.StatusChange], seq: int) -> _Entries:
    """One entry for every covered report: the questions and messages waiting for it, in the
    order written, as many as fit ``PACK_LIMIT`` (the rest wait for the next bundles: the
    server must see one entry per report, whatever the number written), and its newest
    waiting status; or nothing. What is written to a report the cover no longer reaches waits
    until its reporter writes again."""
    try:
        covered = cover.covered(session, unlocked.require_content())
    except cover.CoverTampered as exc:
        raise ExportRefused(str(exc)) from None
    waiting: dict[str, list[db.Reply]] = {}
    for r in replies:  # in seq order
        waiting.setdefault(r.report_id, []).append(r)
    newest: dict[str, db.StatusChange] = {}
    for c in changes:  # in id order
        newest[c.report_id] = c
    out = _Entries([])
    out.held += sum(len(rs) for rid, rs in waiting.items() if rid not in covered)
    for c in changes:
        if c.report_id in covered:
            c.exported_seq, c.exported_by = seq, unlocked.key_id  # the newest stands for all
        else:
            out.held += 1
    for report_id, reporter_key in covered.items():
        change = newest.get(report_id)
        status = (change.status, change.id) if change is not None else None
        items: list[dict[str, Any]] = []
        queue = waiting.get(report_id, [])
        for n, reply in enumerate(queue):
            item = _item(session, reply)
            if items and len(canonical_json(replyentry.body([*items, item], status))) \
                    > replyentry.PACK_LIMIT:
                out.held += len(queue) - n  # in order: none overtakes the one that waits
                break
            items.append(item)
            reply.exported_seq, reply.exported_by = seq, unlocked.key_id
        out.replies += len(items)
        out.statuses += status is not None
        out.items.append((report_id, secrets.token_hex(16), reporter_key,
                          replyentry.body(items, status)))
    return out


def _item(session: Session, r: db.Reply) -> dict[str, Any]:
    """A question or message as the reporter app reads it."""
    # An attestation (authorship.py) travels as an ordinary message: neither the manifest
    # nor the server's row tells that a reporter asked for a proof of authorship.
    if r.kind == authorship.REPLY_KIND:
        item: dict[str, Any] = {"id": r.id, "kind": "message", "text": "",
                                "attestation": r.text}
    else:
        item = {"id": r.id, "kind": r.kind, "text": r.text}
    marker = escrow.reply_marker(session, r.id)  # a lead's request to open a deposit
    if marker is not None:
        item["escrow"] = marker
    item["n"] = r.seq  # the order written in: two on one day are shown in it
    return item
