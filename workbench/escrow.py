"""Identity in escrow on the workbench (crypto/escrow.py, docs/workbench.md).

Deposits and the reporter's answers arrive as submissions of sealed kind ``deposit`` and
``consent`` (checked at import, ``check_deposit`` / ``check_consent``). The auditors and leads
see only that a deposit exists: nothing here can open one. A lead asks the reporter, with a
written reason, through the reply channel (``request_opening``: a message whose sealed body
carries ``escrow``, added by the exporter); the reporter's consent or refusal is recorded when
it is imported (``sync``); a custodian, who brings their own key (never kept in this vault),
opens with it once the consent is recorded, or, where the deposit was made under a policy that
allows it, with enough custodians' approval (``open_identity``). Every step is in the audit log
(ids only), and the reporter is told each step through the reply channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from crypto import escrow as escrow_crypto
from crypto.encoding import b64decode, canonical_json
from crypto.errors import CryptoError
from crypto.identity import CustodianIdentity

from . import audit, db, outbox

KINDS = ("deposit", "consent")
ANSWERS = ("consent", "refuse", "invalid")


class EscrowError(ValueError):
    """An escrow step that cannot be done; the message says why (for a lead or custodian)."""


class EscrowRequest(db.Base):
    """A lead's request to open a deposit; its id is the id of the message that carried it to
    the reporter. Plain: ids, days and codes (the audit log says as much); the reason is in the
    message's encrypted text."""

    __tablename__ = "escrow_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    deposit_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    requested_by: Mapped[str] = mapped_column(String(32))
    created_day: Mapped[str] = mapped_column(String(10))
    answer: Mapped[str | None] = mapped_column(String(16))  # consent | refuse | invalid
    answer_day: Mapped[str | None] = mapped_column(String(10))
    consent_id: Mapped[str | None] = mapped_column(String(32))  # the consent submission
    opened_day: Mapped[str | None] = mapped_column(String(10))
    opened_by: Mapped[str | None] = mapped_column(String(600))  # custodian key ids, sorted
    opened_mode: Mapped[str | None] = mapped_column(String(16))  # consent | approval


# -- import checks ---------------------------------------------------------------------------

def check_deposit(raw: bytes, submission_id: str, report_id: str, reporter_key: bytes
                  ) -> dict[str, Any]:
    """A deposit as imported: well formed, its id the submission's, for this report and this
    reporter key (a deposit moved to another case or codename is refused). Returns the document
    as stored (canonical JSON parses back to the same bytes)."""
    try:
        dep = escrow_crypto.parse_deposit(raw)
    except CryptoError as exc:
        raise EscrowError(f"deposit {submission_id}: malformed ({exc})") from None
    if dep.deposit_id != submission_id or dep.report_id != report_id:
        raise EscrowError(f"deposit {submission_id}: made for another submission or report "
                          "(moved)")
    if dep.reporter_key != bytes(reporter_key):
        raise EscrowError(f"deposit {submission_id}: made for another reporter key (moved)")
    return dep.raw


def check_consent(body: Any, submission_id: str) -> dict[str, Any]:
    ok = (isinstance(body, dict) and set(body) == {"request", "deposit", "decision", "release"}
          and all(isinstance(body[k], str) and len(body[k]) == 32
                  for k in ("request", "deposit"))
          and body["decision"] in ("consent", "refuse")
          and (body["release"] is None if body["decision"] == "refuse"
               else isinstance(body["release"], str) and len(body["release"]) == 44))
    if not ok:
        raise EscrowError(f"submission {submission_id}: not a consent as documented")
    return body


# -- what the case page shows ----------------------------------------------------------------

def deposits(session: Session, report_id: str | None) -> list[dict[str, Any]]:
    """The deposits of a report, with their requests: that they exist, never what they hold."""
    if report_id is None:
        return []
    out = []
    for sub in session.scalars(select(db.Submission).where(
            db.Submission.report_id == report_id, db.Submission.kind == "deposit")
            .order_by(db.Submission.seq)):
        doc = sub.content if isinstance(sub.content, dict) else {}
        requests = session.scalars(select(EscrowRequest).where(
            EscrowRequest.deposit_id == sub.id).order_by(EscrowRequest.created_day,
                                                        EscrowRequest.id)).all()
        out.append({"id": sub.id, "day": sub.received_day,
                    "custodians": len(doc.get("custodians", [])),
                    "consent_k": (doc.get("consent") or {}).get("k"),
                    "approval_k": (doc.get("approval") or {}).get("k"),
                    "requests": requests})
    return out


def _deposit(session: Session, deposit_id: str, report_id: str | None = None) -> db.Submission:
    sub = session.get(db.Submission, deposit_id)
    if sub is None or sub.kind != "deposit" or (report_id is not None
                                                and sub.report_id != report_id):
        raise EscrowError("no such deposit for this case")
    return sub


# -- the steps -------------------------------------------------------------------------------

def request_opening(session: Session, actor: str, case_number: str, report_id: str,
                    deposit_id: str, reason: str, today: dt.date, at: str) -> EscrowRequest:
    """A lead's written request: sent to the reporter with the next reply bundle."""
    _deposit(session, deposit_id, report_id)
    reason = reason.strip()
    if len(reason) < 10:
        raise EscrowError("give the reason for the request (at least 10 characters)")
    reply = outbox.queue_reply(session, report_id, actor, reason, kind="message", today=today)
    req = EscrowRequest(id=reply.id, report_id=report_id, deposit_id=deposit_id,
                        requested_by=actor, created_day=today.isoformat())
    session.add(req)
    audit.record(session, actor, "escrow.request", case_number,
                 {"request": req.id, "deposit": deposit_id}, at=at)
    session.flush()
    return req


def reply_marker(session: Session, reply_id: str) -> dict[str, str] | None:
    """What the exporter adds to a reply's sealed body when it carries a request."""
    req = session.get(EscrowRequest, reply_id)
    return None if req is None else {"request": req.id, "deposit": req.deposit_id}


def sync(session: Session, case_number: Any, at: str) -> int:
    """Record the reporter's answers imported since: each consent submission is matched to its
    request (same report, same deposit) and a consent's release checked against the deposit's
    commitment; the first answer to a request stands. ``case_number(report_id)`` names the
    case for the audit log. Returns how many answers were recorded."""
    done = {r for (r,) in session.execute(select(EscrowRequest.consent_id).where(
        EscrowRequest.consent_id.is_not(None)))}
    n = 0
    for sub in session.scalars(select(db.Submission).where(db.Submission.kind == "consent")
                               .order_by(db.Submission.seq)):
        if sub.id in done:
            continue
        body = sub.content if isinstance(sub.content, dict) else {}
        req = session.get(EscrowRequest, body.get("request"))
        if (req is None or req.report_id != sub.report_id or req.deposit_id != body.get("deposit")
                or req.answer is not None):
            continue  # not ours, or answered already: the first answer stands
        answer = body.get("decision")
        if answer == "consent":
            dep = escrow_crypto.parse_deposit(canonical_json(
                _deposit(session, req.deposit_id).content))
            try:
                valid = dep.check_release(b64decode(body.get("release"), length=32))
            except CryptoError:
                valid = False
            answer = "consent" if valid else "invalid"
        req.answer, req.answer_day, req.consent_id = answer, sub.received_day, sub.id
        audit.record(session, "workbench-intake", f"escrow.{answer}",
                     case_number(req.report_id), {"request": req.id, "deposit": req.deposit_id,
                                                  "submission": sub.id}, at=at)
        n += 1
    session.flush()
    return n


def open_identity(session: Session, request_id: str, custodians: Sequence[CustodianIdentity],
                  *, approval: bool, case_number: str | None, today: dt.date, at: str
                  ) -> dict[str, str]:
    """Open a deposit for a request: with the reporter's recorded consent (its release), or,
    with ``approval``, with the custodians' approval shares where the deposit has them (it was
    made under a policy allowing it). Refused before anything is tried when neither is there.
    The identity is returned for the custodian to read, and not kept in the vault."""
    req = session.get(EscrowRequest, request_id)
    if req is None:
        raise EscrowError("no such request")
    if not custodians:
        raise EscrowError("a custodian must bring their key")
    sub = _deposit(session, req.deposit_id)
    document = canonical_json(sub.content)
    dep = escrow_crypto.parse_deposit(document)
    release = None
    if approval:
        if dep.approval_k is None:
            raise EscrowError("this deposit was made under a policy that requires the "
                              "reporter's consent: custodians' approval cannot open it")
    elif req.answer != "consent":
        raise EscrowError({None: "the reporter has not answered this request yet",
                           "refuse": "the reporter refused this request",
                           "invalid": "the reporter's consent did not match the deposit"}
                          .get(req.answer, "no consent recorded"))
    else:
        consent = session.get(db.Submission, req.consent_id)
        release = b64decode(consent.content["release"], length=32)
    report = session.get(db.Report, req.report_id)
    ids = sorted(c.key_id for c in custodians)
    try:
        identity = escrow_crypto.open_deposit(
            document, report_id=req.report_id, reporter_key=bytes(report.reporter_key),
            custodians=list(custodians), release=release, approval=approval)
    except CryptoError as exc:
        raise EscrowError(f"the deposit did not open: {exc}") from None
    mode = "approval" if approval else "consent"
    if approval:
        for kid in ids:
            audit.record(session, kid, "escrow.approve", case_number,
                         {"request": req.id, "deposit": req.deposit_id}, at=at)
    req.opened_day, req.opened_by, req.opened_mode = today.isoformat(), ",".join(ids), mode
    audit.record(session, ids[0], "escrow.open", case_number,
                 {"request": req.id, "deposit": req.deposit_id, "custodians": ids,
                  "mode": mode}, at=at)
    names = ", ".join(c.name for c in sorted(custodians, key=lambda c: c.key_id))
    how = ("dengan persetujuan Anda / with your consent" if mode == "consent" else
           "dengan persetujuan para kustodian, sebagaimana diizinkan kebijakan perlindungan / "
           "with the custodians' approval, as the protection policy allows")
    outbox.queue_reply(
        session, req.report_id, ids[0],
        f"Identitas yang Anda titipkan dibuka pada {today.isoformat()} oleh kustodian {names}, "
        f"{how.split(' / ')[0]}.\n\nThe identity you deposited was opened on "
        f"{today.isoformat()} by custodian(s) {names}, {how.split(' / ')[1]}.",
        kind="message", today=today)
    session.flush()
    return identity


def opened_without_grounds(session: Session) -> list[str]:
    """Requests marked opened with neither a recorded consent nor the approval mode: for the
    policy control ESC-1 (every opened identity has a recorded consent or approval)."""
    bad = []
    for req in session.scalars(select(EscrowRequest).where(EscrowRequest.opened_day.is_not(None))):
        if not ((req.opened_mode == "consent" and req.answer == "consent")
                or req.opened_mode == "approval"):
            bad.append(req.id)
    return bad
