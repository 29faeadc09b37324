"""Accepting a reply bundle from the workbench.

Order matters: the header is verified first (signature of an enrolled, active auditor card,
kind ``reply``, this deployment, a sequence number newer than the last accepted from that key),
then the body is checked as a whole (``replyplan``), then the members are streamed into the store
under temporary names with their hashes checked as they pass, then every entry is checked to
be sealed to its reporter's key. Only when all of that passed do the rows appear, in the request's
one transaction: the entries (one per covered report, crypto/replyentry.py: questions, messages
and statuses are sealed in them), the acknowledgments (per recipient group, acks.py) and the new
sequence number.
Anything wrong, and nothing of the bundle remains."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import replyentry
from crypto.bundle import COPY_BLOCK, BundleReader
from crypto.errors import CryptoError, ReplayError, UnknownSignerError
from crypto.identity import Card
from peluit.ground.i18n import N_

from ..models import AuditorCard, Reply, Report, Reporter, Submission
from ..routing import CONFLICT
from . import acks, adminlog, replyplan, sequences


class ReplyRejected(Exception):
    """The bundle was refused. ``message`` is an English msgid of the gateway catalog, shown
    translated; ``detail`` the technical reason (from crypto/), shown as is."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(f"{message} {detail}".strip())
        self.message = message
        self.detail = detail


FOREIGN = N_("The bundle was made for another Peluit server.")
UNTRUSTED = N_("The bundle is not signed by an enrolled, active auditor card.")
REPLAYED = N_("This bundle, or a newer one from the same auditor, was already accepted.")
DAMAGED = N_("The bundle is damaged or was changed after it was signed.")
REFUSED = N_("The bundle asks for something this server will not do.")
NO_REPORT = N_("The bundle names a report this server does not have.")
DUPLICATE = N_("The bundle repeats a reply this server already has.")
NOT_SEALED = N_("A reply in the bundle is not sealed to its reporter's key.")


def _crypto_rejection(exc: CryptoError) -> ReplyRejected:
    if isinstance(exc, ReplayError):
        return ReplyRejected(REPLAYED, str(exc))
    return ReplyRejected(DAMAGED, str(exc))


@dataclass(frozen=True)
class ReplyOutcome:
    sender: str  # the auditor card's name
    seq: int
    replies: int
    statuses: int
    acks: int
    signer_key: str = ""
    server_key: str | None = None  # the server key the signer's vault trusts (rotation ack)


def _trusted(db: Session, pinned: frozenset[str] | None) -> dict:
    """The signing keys of active cards. A conflict-group card counts only if the signed
    policy's ``[conflict]`` section names it (``pinned``; dropbox_app/auditors.py): one that
    the gateway's admin enrolled alone must not acknowledge submissions for the conflict group
    (letting retention delete a report about the inspectorate before its readers fetched it)
    nor write to reporters as that group."""
    rows = db.scalars(select(AuditorCard).where(AuditorCard.active.is_(True)))
    return {r.key_id: Card.from_bytes(r.card).sign_key for r in rows
            if r.recipient_group != CONFLICT or r.key_id in (pinned or ())}


def _open(db: Session, src: BinaryIO, deployment: str,
          pinned: frozenset[str] | None) -> BundleReader:
    try:
        return BundleReader(src, _trusted(db, pinned), "reply",
                            lambda key_id: sequences.last(db, key_id, sequences.REPLY), deployment)
    except UnknownSignerError as exc:
        if "deployment" in str(exc):
            raise ReplyRejected(FOREIGN) from None
        unnamed = [r.name for r in db.scalars(select(AuditorCard).where(
            AuditorCard.active.is_(True), AuditorCard.recipient_group == CONFLICT))
            if r.key_id not in (pinned or ())]
        raise ReplyRejected(UNTRUSTED, (
            "conflict-group cards not named in the signed protection policy's [conflict] "
            f"section sign nothing: {', '.join(unnamed)}") if unnamed else "") from None
    except CryptoError as exc:
        raise _crypto_rejection(exc) from None


def accept(db: Session, store, src: BinaryIO, deployment: str, day: str, *,
           actor: str, pinned: frozenset[str] | None = None) -> ReplyOutcome:
    """Verify and apply one reply bundle read from ``src`` (uploaded by ``actor``, a gateway
    user, for the admin log); ``pinned``: the conflict-group cards the signed policy names.
    Raises ReplyRejected."""
    reader = _open(db, src, deployment, pinned)
    manifest = reader.manifest
    try:
        plan = replyplan.plan(manifest)
    except replyplan.BadReplyBundle as exc:
        raise ReplyRejected(REFUSED, str(exc)) from None

    reports = {r.id: r for r in db.scalars(select(Report).where(Report.id.in_(plan.reports)))}
    if len(reports) != len(plan.reports):
        raise ReplyRejected(NO_REPORT)
    reply_ids = [r.id for r in plan.replies]
    # A reply id already used (by a reply or a submission) is a replay or a forgery.
    if reply_ids and (
            db.scalar(select(Reply.id).where(Reply.id.in_(reply_ids)).limit(1))
            or db.scalar(select(Submission.id).where(Submission.id.in_(reply_ids)).limit(1))):
        raise ReplyRejected(DUPLICATE)
    reporter_keys = dict(db.execute(
        select(Report.id, Reporter.public_key).join(Reporter, Report.reporter_id == Reporter.id)
        .where(Report.id.in_(plan.reports))).all())
    by_member = {r.member: r for r in plan.replies}
    # The sequence number is claimed first: a concurrent upload of the same bundle waits here
    # for this transaction, and is then refused before it writes a single file.
    try:
        sequences.record_accepted(db, manifest.sender, manifest.seq)
    except CryptoError as exc:
        raise _crypto_rejection(exc) from None

    written = []
    try:
        for stream in reader.members():
            reply = by_member[stream.member.name]
            pending = store.begin(reply.id)
            written.append((reply, pending, stream.member.size))
            while block := stream.read(COPY_BLOCK):
                pending.sink.write(block)
        # Every member verified and nothing follows the last one: make them visible, then check
        # that each is an envelope its reporter can open (the server can read the header).
        for _reply, pending, _size in written:
            pending.commit()
        for reply, pending, size in written:
            _check_envelope(store, pending.member, size, reporter_keys[reply.report])
    except CryptoError as exc:
        _discard(written)
        raise _crypto_rejection(exc) from None
    except BaseException:
        _discard(written)
        raise

    try:
        for reply, pending, size in written:
            db.add(Reply(id=reply.id, report_id=reply.report, kind=reply.kind,
                         member=pending.member, padded_size=size, created_day=day,
                         read_day=None))
        # Recorded for the signer's group; a submission is acknowledged once every group
        # with an active card acknowledged it (acks.py).
        signer = db.get(AuditorCard, manifest.sender)
        acked = acks.record(db, plan.acks, signer.recipient_group, day) if plan.acks else 0
        db.flush()
    except BaseException:
        _discard(written)
        raise
    # Each envelope sits in a slot of the store (its row names the slot); the slots are let go
    # when this transaction commits, and emptied again if it does not.
    store.settle(db, [pending for _reply, pending, _size in written])
    sender = db.get(AuditorCard, manifest.sender)
    adminlog.record(db, day, actor, "replies.upload", {
        "signer": manifest.sender, "seq": manifest.seq, "replies": len(written),
        "statuses": len(plan.statuses), "acks": acked})
    return ReplyOutcome(sender.name if sender else manifest.sender, manifest.seq,
                        len(written), len(plan.statuses), acked, manifest.sender,
                        plan.server_key)


def _check_envelope(store, member: str, size: int, reporter_key: bytes) -> None:
    with store.open(member) as f:
        head = f.read(replyentry.HEAD)
    if not replyentry.check(head, size, reporter_key):
        raise ReplyRejected(NOT_SEALED)


def _discard(written: list) -> None:
    for _reply, pending, _size in written:
        pending.discard()
