"""Retaliation flags: statuses, the export state, policy changes, and sealed reasons that must
not be moved between flags."""

import datetime as dt
import os

import pytest

from policies.calendar import DeadlinePolicy
from tests.fixtures.cases import AUDITOR, CALENDAR, COMPLIANCE, LEAD, add_report
from workbench import db, outbox
from workbench.cases import retaliation
from workbench.cases.models import Case, RetaliationFlag
from workbench.cases.workflow import Forbidden, WorkflowError
from workbench.vault import vault_box_key

D = dt.date


def flag(due, handled=None):
    return RetaliationFlag(flagged_day=D(2026, 3, 2), due_day=due, handled_day=handled)


def test_status_and_export_state():
    due = D(2026, 3, 4)
    assert retaliation.status(flag(due), D(2026, 3, 4)) == "open"
    assert retaliation.status(flag(due), D(2026, 3, 5)) == "overdue"
    assert retaliation.status(flag(due, D(2026, 3, 4)), D(2026, 9, 1)) == "met"
    assert retaliation.status(flag(due, D(2026, 3, 5)), D(2026, 9, 1)) == "late"
    today = D(2026, 3, 3)
    assert retaliation.export_state([flag(due, D(2026, 3, 3))], today) == "met"
    assert retaliation.export_state([flag(due, D(2026, 3, 3)), flag(due)], today) == "open"
    assert retaliation.export_state([flag(due), flag(D(2026, 3, 2))], today) == "missed"


def two_flags(svc, vault_key):
    for _ in range(2):
        rid = add_report(svc.db, "Pungli di loket")
        svc.db.add(db.Submission(id=os.urandom(16).hex(), seq=99, report_id=rid,
                                 kind="retaliation", received_day="2026-03-17",
                                 content={"text": "diancam"}, size=0, sha256="0" * 64,
                                 import_seq=2))
    svc.sync_reports()
    retaliation.remember_box_key(svc.db, vault_key)
    return svc.db.query(RetaliationFlag).order_by(RetaliationFlag.id).all()


def answer(svc, flag, day=None):
    """The lead's response through the follow-up page (a message queued to the report)."""
    case = svc.db.get(Case, flag.case_id)
    outbox.queue_reply(svc.db, case.report_id, LEAD.id, "Kami menanggapi.", kind="message",
                       today=day or flag.flagged_day)


def test_roles_and_a_moved_reason_is_refused(svc, vault_key):
    a, b = two_flags(svc, vault_key)
    assert a.due_day == D(2026, 3, 26)  # Nyepi and cuti bersama are not working days
    today = D(2026, 3, 18)
    with pytest.raises(Forbidden):
        retaliation.handle(svc.db, AUDITOR.role, AUDITOR.id, a.id, "x", today)
    # The compliance officer monitors the deadline but cannot answer a reporter (issue 19).
    with pytest.raises(Forbidden):
        retaliation.handle(svc.db, COMPLIANCE.role, COMPLIANCE.id, a.id, "x", today)
    # Not answered through the follow-up page since the flag (an older reply does not count).
    answer(svc, a, D(2026, 3, 2))
    with pytest.raises(WorkflowError) as exc:
        retaliation.handle(svc.db, LEAD.role, LEAD.id, a.id, "x", today)
    assert exc.value.code == "retaliation_unanswered"
    answer(svc, a)
    answer(svc, b)
    retaliation.handle(svc.db, LEAD.role, LEAD.id, a.id, "LPSK dihubungi", today)
    retaliation.handle(svc.db, LEAD.role, LEAD.id, b.id, "ditangani", today)
    box = vault_box_key(vault_key)
    with pytest.raises(Forbidden):
        retaliation.reasons(svc.db, COMPLIANCE.role, box, a.case_id)
    assert retaliation.reasons(svc.db, LEAD.role, box, a.case_id) == {a.id: "LPSK dihubungi"}
    # Someone with write access to the database copies one flag's sealed reason to another.
    b.reason = a.reason
    svc.db.flush()
    with pytest.raises(db.TamperedError):
        retaliation.reasons(svc.db, LEAD.role, box, b.case_id)


def test_open_flags_follow_a_policy_change(svc, vault_key):
    a, b = two_flags(svc, vault_key)
    answer(svc, a)
    retaliation.handle(svc.db, LEAD.role, LEAD.id, a.id, "ditangani", D(2026, 3, 17))
    retaliation.sync(svc.db, CALENDAR, DeadlinePolicy(retaliation_days=1))
    assert b.due_day == D(2026, 3, 25) and a.due_day == D(2026, 3, 26)


def test_handling_needs_a_recorded_box_key(svc, vault_key):
    rid = add_report(svc.db, "Pungli")
    svc.db.add(db.Submission(id=os.urandom(16).hex(), seq=9, report_id=rid, kind="retaliation",
                             received_day="2026-03-17", content={"text": "t"}, size=0,
                             sha256="0" * 64, import_seq=2))
    svc.sync_reports()
    [f] = svc.db.query(RetaliationFlag).all()
    with pytest.raises(WorkflowError) as exc:
        answer(svc, f)
        retaliation.handle(svc.db, LEAD.role, LEAD.id, f.id, "x", D(2026, 3, 17))
    assert exc.value.code == "locked"
