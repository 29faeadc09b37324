"""Retaliation flags: a reporter's ``retaliation`` submission flags their case for the compliance
officer with its own deadline (``DeadlinePolicy.retaliation_days`` working days from the day it
was received, 2 by default as in the signed protection policy). A lead or the compliance officer
records that it was handled, with a written reason, which stops the clock.

Everything here but the reason works without the vault key: the compliance officer sees the case
number, the day flagged, the due day and the status, never what the reporter wrote."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from policies.calendar import DeadlinePolicy, WorkingCalendar
from workbench import audit, db

from .models import Case, RetaliationFlag
from .workflow import Permission, WorkflowError, require

# The vault box's public key, recorded by the first key holder's session, so a compliance
# officer (no vault key) can seal a reason only key holders can open.
BOX_PUBLIC_SETTING = "cases.vault_box_public"
MAX_REASON = 5_000


@dataclass
class FlagRow:
    flag: RetaliationFlag
    number: str
    status: str          # met | late | open | overdue


def status(flag: RetaliationFlag, today: dt.date) -> str:
    if flag.handled_day is not None:
        return "met" if flag.handled_day <= flag.due_day else "late"
    return "overdue" if today > flag.due_day else "open"


def export_state(flags: list[RetaliationFlag], today: dt.date) -> str:
    """One state for the statistics export: missed if any was handled late or is overdue, open
    if any is still in time, else met."""
    states = {status(f, today) for f in flags}
    if states & {"late", "overdue"}:
        return "missed"
    return "open" if "open" in states else "met"


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def sync(session: Session, calendar: WorkingCalendar, policy: DeadlinePolicy,
         at: str | None = None) -> list[RetaliationFlag]:
    """Flag every case whose reporter sent a ``retaliation`` submission not flagged yet, and
    move the due day of flags still open when the policy or the decree changed. Plain columns
    only: needs no vault key. Returns the new flags."""
    for flag in session.scalars(select(RetaliationFlag).where(
            RetaliationFlag.handled_day.is_(None))):
        due = calendar.add_working_days(flag.flagged_day, policy.retaliation_days)
        if due != flag.due_day:
            flag.due_day = due
    rows = session.execute(
        select(db.Submission.id, db.Submission.received_day, Case)
        .join(Case, Case.report_id == db.Submission.report_id)
        .outerjoin(RetaliationFlag, RetaliationFlag.submission_id == db.Submission.id)
        .where(db.Submission.kind == "retaliation", RetaliationFlag.id.is_(None))
        .order_by(db.Submission.seq)).all()
    new = []
    for sid, received, case in rows:
        day = _day(received) or case.received_day
        flag = RetaliationFlag(case_id=case.id, submission_id=sid, flagged_day=day,
                               due_day=calendar.add_working_days(day, policy.retaliation_days))
        session.add(flag)
        session.flush()
        audit.record(session, "workbench-intake", "case.retaliation.flag", case.number,
                     {"flag": flag.id, "due": flag.due_day.isoformat()}, at=at)
        new.append(flag)
    return new


def remember_box_key(session: Session, vault_key: bytes) -> None:
    from workbench.vault import vault_box_key

    public = bytes(vault_box_key(vault_key).public_key).hex()
    if db.get_setting(session, BOX_PUBLIC_SETTING) != public:
        db.set_setting(session, BOX_PUBLIC_SETTING, public)


def flags(session: Session, role: str, today: dt.date,
          case_id: int | None = None) -> list[FlagRow]:
    """Open flags first (earliest due first), then handled ones, newest first."""
    require(role, Permission.LIST)
    q = select(RetaliationFlag, Case.number).join(Case, Case.id == RetaliationFlag.case_id)
    if case_id is not None:
        q = q.where(RetaliationFlag.case_id == case_id)
    out = [FlagRow(f, n, status(f, today)) for f, n in session.execute(q)]
    out.sort(key=lambda r: (r.flag.handled_day is not None,
                            r.flag.due_day.toordinal() if r.flag.handled_day is None else
                            -r.flag.handled_day.toordinal(), r.flag.id))
    return out


def handle(session: Session, role: str, actor: str, flag_id: int, reason: str,
           today: dt.date, at: str | None = None) -> RetaliationFlag:
    """Record that the retaliation report was handled; the reason is sealed to the vault box.
    The policy's target is a response to the reporter through the follow-up page (policies
    .clocks "retaliation"), so a lead records it only once a message or question to that report
    has been queued since the flag: the clock cannot stop on a response the reporter never
    gets."""
    require(role, Permission.RETALIATION)
    flag = session.get(RetaliationFlag, flag_id)
    if flag is None:
        raise WorkflowError("not_found", "no such retaliation flag")
    if flag.handled_day is not None:
        raise WorkflowError("bad_state", "already recorded as handled")
    case = session.get(Case, flag.case_id)
    answered = case is not None and case.report_id is not None and session.scalar(
        select(db.Reply.id).where(db.Reply.report_id == case.report_id,
                                  db.Reply.created_day >= flag.flagged_day.isoformat())
        .limit(1)) is not None
    if not answered:
        raise WorkflowError("retaliation_unanswered",
                            "answer the reporter on the case page first")
    if not isinstance(reason, str):
        raise WorkflowError("bad_input", "expected text")
    reason = reason.replace("\x00", "").strip()
    if not reason:
        raise WorkflowError("reason_required", "write down how it was handled")
    if len(reason) > MAX_REASON:
        raise WorkflowError("too_long", "reason too long")
    public = db.get_setting(session, BOX_PUBLIC_SETTING)
    if public is None:
        raise WorkflowError("locked", "no key holder has opened the workbench yet")
    body = json.dumps({"flag": flag.id, "text": reason}).encode()
    flag.reason = SealedBox(PublicKey(bytes.fromhex(public))).encrypt(body)
    flag.handled_day = today
    flag.handled_by = actor
    audit.record(session, actor, "case.retaliation.handled", case.number if case else None,
                 {"flag": flag.id, "met": flag.handled_day <= flag.due_day}, at=at)
    return flag


def reasons(session: Session, role: str, box: PrivateKey, case_id: int) -> dict[int, str]:
    """The written reasons of a case's handled flags: leads only (the DECIDE permission)."""
    require(role, Permission.DECIDE)
    out: dict[int, str] = {}
    for flag in session.scalars(select(RetaliationFlag).options(undefer(RetaliationFlag.reason))
                                .where(RetaliationFlag.case_id == case_id)):
        if flag.reason is None:
            continue
        try:
            body: Any = json.loads(SealedBox(box).decrypt(flag.reason))
        except (CryptoError, ValueError):
            raise db.TamperedError(f"retaliation flag {flag.id}: reason does not open") from None
        if not isinstance(body, dict) or body.get("flag") != flag.id:
            # A reason copied from another flag is refused, not shown here.
            raise db.TamperedError(f"retaliation flag {flag.id}: a reason of another flag")
        out[flag.id] = str(body.get("text", ""))
    return out
