"""``peluit workbench export-replies``: everything written since the last export, as one reply
bundle signed by the exporting auditor (docs/engineering.md, "Bundle bodies").

Questions and messages are sealed to the reporter's public key alone (the server cannot read
them); status changes are coarse (the latest per report); acks name the submissions this vault
holds, so the server may delete its copies after its retention. The bundle's sequence number is
the next one for the exporting auditor's key. The file appears complete or not at all, and the
rows are marked exported in the same transaction; if the transaction fails, the file goes."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import bundle, envelope
from crypto.encoding import canonical_json

from . import audit, db, vault
from .fsutil import fsync_dir, temp_beside


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


def export_replies(unlocked: vault.Unlocked, out: Path, today: dt.date | None = None
                   ) -> ExportResult:
    vault_key = unlocked.require_content()
    out = Path(out)
    if out.exists():
        raise ExportRefused(f"{out} exists already: an earlier bundle may still have to go; "
                            "choose another name")
    if not out.parent.is_dir():
        raise ExportRefused(f"{out.parent} is not a directory")
    engine = db.make_engine(unlocked.path)
    tmp = temp_beside(out)
    renamed = False
    try:
        with db.unlocked(vault_key), Session(engine) as session, session.begin():
            result = _export(session, unlocked, tmp, today or dt.date.today())
            os.replace(tmp, out)
            renamed = True
            fsync_dir(out.parent)
        return ExportResult(result.seq, result.replies, result.statuses, result.acks, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if renamed:
            out.unlink(missing_ok=True)  # written, but the vault did not record it
        raise
    finally:
        engine.dispose()


def _export(session: Session, unlocked: vault.Unlocked, tmp: Path, today: dt.date
            ) -> ExportResult:
    replies = session.scalars(select(db.Reply).where(db.Reply.exported_seq.is_(None))
                              .order_by(db.Reply.seq)).all()
    changes = session.scalars(select(db.StatusChange).where(
        db.StatusChange.exported_seq.is_(None)).order_by(db.StatusChange.id)).all()
    acks = session.scalars(select(db.Submission).where(db.Submission.ack_seq.is_(None))
                           .order_by(db.Submission.seq)).all()
    if not (replies or changes or acks):
        raise NothingToExport("nothing to export: no new question, status or import")
    key_id = unlocked.key_id
    seq_row = session.get(db.BundleSequence, ("reply", key_id))
    seq = (seq_row.seq if seq_row else 0) + 1
    members: dict[str, bytes] = {}
    body_replies = []
    for r in replies:
        name = f"{r.id}.env"
        members[name] = envelope.seal_bytes(
            canonical_json({"text": r.text}), [PublicKey(r.report.reporter_key)],
            {"v": 1, "kind": r.kind, "report": r.report_id, "reply": r.id})
        body_replies.append({"id": r.id, "report": r.report_id, "kind": r.kind, "member": name})
        r.exported_seq, r.exported_by = seq, key_id
    latest: dict[str, str] = {}
    for c in changes:
        latest[c.report_id] = c.status  # the reporter sees only where the case stands now
        c.exported_seq = seq
    for s in acks:
        s.ack_seq = seq
    body = {"acks": [s.id for s in acks], "replies": body_replies,
            "statuses": [{"report": r, "status": st} for r, st in sorted(latest.items())]}
    manifest = bundle.make_manifest(
        "reply", db.get_setting(session, "deployment") or "", unlocked.identity.signing, seq,
        [bundle.Member(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in members.items()],
        body, today=today)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        bundle.write_bundle(f, manifest, unlocked.identity.signing,
                            lambda name: io.BytesIO(members[name]))
        f.flush()
        os.fsync(f.fileno())
    if seq_row is None:
        session.add(db.BundleSequence(direction="reply", key_id=key_id, seq=seq))
    else:
        seq_row.seq = seq
    audit.record(session, key_id, "bundle.export", details={
        "seq": seq, "replies": len(replies), "statuses": len(latest), "acks": len(acks)})
    return ExportResult(seq, len(replies), len(latest), len(acks), tmp)
