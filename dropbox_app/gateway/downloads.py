"""Database side of the inbox bundle: what is waiting, and the download itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.bundle import Manifest
from crypto.identity import ServerKey

from ..models import Report, Reporter, Submission
from . import adminlog, inbox, sequences, serverkey


@dataclass(frozen=True)
class InboxStatus:
    """Everything the gateway may show about its inbox: counts and sizes."""

    submissions: int
    reports: int
    bytes: int
    acked_waiting_deletion: int
    rotation_pending: bool
    last_seq: int | None


def pending(db: Session, limit: int = inbox.MAX_SUBMISSIONS_PER_BUNDLE
            ) -> list[inbox.PendingSubmission]:
    rows = db.execute(
        select(Submission.id, Submission.report_id, Reporter.public_key, Submission.kind,
               Submission.member, Submission.created_day, Submission.padded_size,
               Submission.sha256)
        .join(Report, Submission.report_id == Report.id)
        .join(Reporter, Report.reporter_id == Reporter.id)
        .where(Submission.acked_day.is_(None))
        .order_by(Submission.created_day, Submission.id)
        .limit(limit))
    return [inbox.PendingSubmission(*row) for row in rows]


def status(db: Session, key_file: Path) -> InboxStatus:
    count, reports, size = db.execute(
        select(func.count(Submission.id), func.count(func.distinct(Submission.report_id)),
               func.coalesce(func.sum(Submission.padded_size), 0))
        .where(Submission.acked_day.is_(None))).one()
    acked = db.scalar(select(func.count(Submission.id)).where(Submission.acked_day.is_not(None)))
    key = serverkey.load(key_file)
    return InboxStatus(count, reports, int(size), acked or 0,
                       serverkey.next_path(key_file).exists(),
                       sequences.last(db, key.key_id, sequences.INBOX))


@dataclass(frozen=True)
class PreparedDownload:
    manifest: Manifest
    signer: ServerKey
    rotating: bool


def prepare(db: Session, key_file: Path, deployment: str, today: dt.date, *,
            actor: str) -> PreparedDownload:
    """Build the next inbox manifest and reserve its sequence number (in the caller's
    transaction, which commits before the bundle's bytes start to flow). The download is in
    the admin log, and so in the log the bundle itself carries."""
    signer = serverkey.load(key_file)
    new = serverkey.pending(key_file)
    waiting = pending(db)
    seq = sequences.take_next(db, signer.key_id)
    adminlog.record(db, today.isoformat(), actor, "inbox.download", {
        "seq": seq, "server_key": signer.key_id, "submissions": len(waiting)})
    manifest = inbox.inbox_manifest(waiting, deployment, signer, seq,
                                    rotate_to=new.card(today) if new else None, today=today,
                                    admin_log=adminlog.for_bundle(db))
    return PreparedDownload(manifest, signer, new is not None)
