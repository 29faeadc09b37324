"""Retaliation reports: flagged with their own deadline, seen by the compliance officer without
content, answered by a lead through the follow-up page and then recorded as handled (the
compliance officer monitors the deadline: it can neither read the notice nor write to the
reporter), audit-logged, exported."""

import datetime as dt
import json

from sqlalchemy import select

from peluit.ground.clock import Clock
from peluit.ground.services import service
from policies import auditlog
from policies.statistics import CaseRecord, compute
from tests.fixtures.cases_web import SECRET, csrf, flagged, post
from workbench import db
from workbench.cases.models import RetaliationFlag
from workbench.web import make_app


def handle(client, flag_id, reason, status=303):
    page = client.get("/cases/retaliation")
    return client.post(f"/cases/retaliation/{flag_id}/handled",
                       {"reason": reason, "csrf_token": csrf(page)}, status=status)


def test_flag_deadline_honours_holidays_and_compliance_sees_no_content(auditor, compliance,
                                                                       store):
    case, flag = flagged(auditor, store)
    assert flag.flagged_day == dt.date(2026, 3, 17)
    assert flag.due_day == dt.date(2026, 3, 26)
    page = compliance.get("/cases/retaliation")
    assert case.number in page.text and "2026-03-26" in page.text
    assert "Papua" not in page.text and "pelicin" not in page.text
    assert f"/cases/{case.id}\"" not in page.text  # no link to a page it may not open
    compliance.get(f"/cases/{case.id}", status=403)
    # The auditor sees the flag on the case page.
    assert "2026-03-26" in auditor.get(f"/cases/{case.id}").text


def test_handling_stops_the_clock_roles_and_audit(auditor, lead, compliance, store,
                                                  make_client):
    case, flag = flagged(auditor, store, day="2026-03-16")  # today: the answer comes after it
    handle(auditor, flag.id, "sudah ditangani", status=403)  # only a lead
    handle(compliance, flag.id, "sudah", status=403)         # the officer monitors only
    # Issue 19: the clock stopped on a "response" the reporter never got. Now the lead must
    # answer through the follow-up page first.
    r = handle(lead, flag.id, "LPSK dihubungi, pelapor dilindungi", status=400)
    assert "Jawab pelapor lebih dahulu" in r.text or "Answer the reporter first" in r.text
    post(lead, f"/cases/{case.id}/ask", {"text": "Apakah Anda aman sekarang?"})
    handle(lead, flag.id, "", status=400)                    # a written reason is required
    handle(lead, flag.id, "LPSK dihubungi, pelapor dilindungi")
    handle(lead, flag.id, "again", status=400)               # once only
    row = store.query(lambda s: s.get(RetaliationFlag, flag.id))
    assert row.handled_day == dt.date(2026, 3, 16) and row.handled_by
    # The clock stopped: days later it is still "handled in time", not overdue.
    service(make_client.app, Clock).advance(days=30)
    page = compliance.get("/cases/retaliation")
    assert "retaliation-met" in page.text and "LPSK" not in page.text
    # The reason is for leads only; an auditor's case page does not show it.
    assert "LPSK dihubungi" in lead.get(f"/cases/{case.id}").text
    assert "LPSK" not in auditor.get(f"/cases/{case.id}").text
    entries = store.query(lambda s: [auditlog.parse_line(r.entry, "t") for r in s.scalars(
        select(db.AuditLogRow).order_by(db.AuditLogRow.seq))])
    assert auditlog.verify(entries) == []
    actions = [(e.action, e.case) for e in entries]
    assert ("case.retaliation.flag", case.number) in actions
    assert ("case.retaliation.handled", case.number) in actions
    assert not any(b"LPSK" in e.to_bytes() or b"Papua" in e.to_bytes() for e in entries)
    # At rest the reason is sealed, not plain.
    sealed = store.query(lambda s: s.scalars(select(RetaliationFlag.reason)).one())
    assert sealed and b"LPSK" not in sealed


def test_overdue_and_export(auditor, compliance, store, make_client):
    flagged(auditor, store)
    service(make_client.app, Clock).advance(days=11)  # Friday 27 March: past due
    assert "retaliation-overdue" in compliance.get("/cases/retaliation").text
    export = json.loads(compliance.get("/cases/export.json").body)
    [rec] = export["cases"]
    assert rec["retaliation"] is True and rec["deadlines"]["retaliation"] == "missed"
    assert "Papua" not in json.dumps(export)
    [row] = [r for r in compute([CaseRecord.from_dict(rec)] * 6).deadlines
             if r.deadline == "retaliation"]
    assert row.cells["missed"].value == 6


def test_flagged_at_start_up(tv, lead, store):
    """A retaliation report imported while the workbench was stopped is flagged when it starts,
    before any key holder opens a list."""
    rid = store.report("Pungli di loket")
    lead.get("/cases")  # the case exists, no retaliation yet
    assert store.query(lambda s: s.scalars(select(RetaliationFlag)).all()) == []
    store.message(rid, SECRET, kind="retaliation", day="2026-03-17")
    make_app(tv.path, demo_not_air_gapped=True)
    [flag] = store.query(lambda s: s.scalars(select(RetaliationFlag)).all())
    assert flag.due_day == dt.date(2026, 3, 26)
