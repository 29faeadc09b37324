"""Who may open a case: assignment by a lead, and recusal for a conflict of interest.

* A lead assigns a case to members (auditors or leads). A case with assignments is open to its
  assignees and to the leads; a case without any (not yet triaged) to every content member.
* A member declares a conflict of interest on a case: from then on they are excluded from it,
  whatever their role or assignment, and their assignment to it ends.
* Exclusion holds at every door: the case list and its text search and deadline lists
  (``excluded`` is left out of the catalog's selection), and every request that names a case,
  a report or a submission (``guard``, a ContextFound subscriber: the case page and its
  actions, files, previews, safe copies, redaction, forwarding packages, the report pages,
  file downloads, the authorship attestation). Leads see who is assigned and who recused.
* Every assignment and recusal is an audit log entry (``case.assign``, ``case.recuse``); reads
  are too (``case.read``, ``file.export``, ``case.safe_copy``, ``case.forward``).

The exclusion is enforced by the application, not by keys: docs/cases.md says why. The rows are
covered by the vault's seal (workbench/trust.py), so nobody without the vault key can add an
assignment or delete a recusal in the database file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workbench import audit, db

from .models import Case, CaseAssignment, CaseRecusal
from .workflow import Permission, WorkflowError, allowed

LEAD = "lead"


class Excluded(WorkflowError):
    """The member may not open this case (recused, or not among its assignees)."""

    def __init__(self) -> None:
        super().__init__("excluded", "excluded from this case")


def recused_ids(session: Session, key_id: str) -> set[int]:
    return set(session.scalars(select(CaseRecusal.case_id).where(CaseRecusal.key_id == key_id)))


def excluded(session: Session, key_id: str, role: str) -> set[int]:
    """The case ids this member may not see."""
    out = recused_ids(session, key_id)
    if role != LEAD:
        assigned = set(session.scalars(select(CaseAssignment.case_id).distinct()))
        mine = set(session.scalars(select(CaseAssignment.case_id)
                                   .where(CaseAssignment.key_id == key_id)))
        out |= assigned - mine
    return out


def may_open(session: Session, key_id: str, role: str, case_id: int) -> bool:
    if session.get(CaseRecusal, (case_id, key_id)) is not None:
        return False
    if role == LEAD:
        return True
    assignees = set(session.scalars(select(CaseAssignment.key_id)
                                    .where(CaseAssignment.case_id == case_id)))
    return not assignees or key_id in assignees


def check(session: Session, key_id: str, role: str, case_id: int) -> None:
    if not may_open(session, key_id, role, case_id):
        raise Excluded()


def _members(session: Session) -> dict[str, str]:
    """Active members who read content (auditors and leads), key id -> name."""
    return {k: n for k, n, role, active in session.execute(
        select(db.Auditor.key_id, db.Auditor.name, db.Auditor.role, db.Auditor.active))
        if active and role in ("auditor", "lead")}


def assign(session: Session, actor: Any, case: Case, key_ids: list[str], day: dt.date) -> None:
    """The lead sets the case's assignees (replacing the earlier set). A recused member cannot
    be assigned; the lead's own exclusion rules still apply to them."""
    if not allowed(actor.role, Permission.DECIDE):
        from .workflow import Forbidden

        raise Forbidden(Permission.DECIDE)
    members = _members(session)
    wanted = sorted(set(key_ids))
    if any(k not in members for k in wanted):
        raise WorkflowError("bad_input", "not an active auditor or lead")
    recused = set(session.scalars(select(CaseRecusal.key_id)
                                  .where(CaseRecusal.case_id == case.id)))
    if recused & set(wanted):
        raise WorkflowError("recused", "a member who declared a conflict cannot be assigned")
    before = sorted(session.scalars(select(CaseAssignment.key_id)
                                    .where(CaseAssignment.case_id == case.id)))
    if before == wanted:
        return
    session.execute(delete(CaseAssignment).where(CaseAssignment.case_id == case.id))
    for k in wanted:
        session.add(CaseAssignment(case_id=case.id, key_id=k, day=day.isoformat(),
                                   by=actor.id))
    session.flush()
    audit.record(session, actor.id, "case.assign", case.number,
                 {"assigned": wanted, "before": before})


def recuse(session: Session, actor: Any, case: Case, day: dt.date) -> None:
    """``actor`` declares a conflict of interest on ``case`` and is excluded from it."""
    if session.get(CaseRecusal, (case.id, actor.id)) is not None:
        return
    session.add(CaseRecusal(case_id=case.id, key_id=actor.id, day=day.isoformat()))
    session.execute(delete(CaseAssignment).where(CaseAssignment.case_id == case.id,
                                                 CaseAssignment.key_id == actor.id))
    session.flush()
    audit.record(session, actor.id, "case.recuse", case.number, {"member": actor.id})


def people(session: Session, case: Case) -> dict[str, Any]:
    """For the case page: the members, who is assigned and who recused."""
    members = _members(session)
    names = {k: n for k, n in session.execute(select(db.Auditor.key_id, db.Auditor.name))}
    return {
        "members": members,
        "assigned": [(k, names.get(k, k)) for k in session.scalars(
            select(CaseAssignment.key_id).where(CaseAssignment.case_id == case.id)
            .order_by(CaseAssignment.key_id))],
        "recused": [(k, names.get(k, k)) for k in session.scalars(
            select(CaseRecusal.key_id).where(CaseRecusal.case_id == case.id)
            .order_by(CaseRecusal.key_id))],
    }


# -- the door of every request that names a case, a report or a submission ---------------------

def case_of_request(request: Any) -> int | None:
    md = request.matchdict or {}
    session = request.dbsession
    # every route under /cases/{id}, whoever added it (case.*, redaction, retention, ...)
    if "id" in md and request.path_info.startswith("/cases/"):
        try:
            return int(md["id"])
        except ValueError:
            return None
    report_id = md.get("report_id")
    if report_id is None and "submission_id" in md:
        report_id = session.scalar(select(db.Submission.report_id)
                                   .where(db.Submission.id == md["submission_id"]))
    if report_id is not None:
        return session.scalar(select(Case.id).where(Case.report_id == report_id))
    return None


def guard(event: Any) -> None:
    request = event.request
    ident = getattr(request, "identity", None)
    if ident is None or request.matched_route is None:
        return
    case_id = case_of_request(request)
    if case_id is not None:
        check(request.dbsession, ident.key_id, ident.role, case_id)
