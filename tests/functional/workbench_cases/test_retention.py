"""Retention and disposal (issue 19: the policy promises a retention period; the workbench had
none). A closed case past the retention period is listed for a lead, and disposing of it
removes its content from the vault, its file, and its words from the search index, while the
audit log keeps the fact. Today is Monday 16 March 2026 (conftest.NOW)."""

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from policies import auditlog
from tests.fixtures.cases_web import csrf, post
from workbench import db, filestore
from workbench.cases import retention
from workbench.cases.models import Case, CaseEvent

SECRET = "Zamrudrahasia"
FILE = b"%PDF-1.4 bukti Kelabusunyi " + bytes(range(256)) * 8


def _closed_case(auditor, lead, store, closed):
    rid = store.report(f"{SECRET} meminta uang pelicin", who_name="Pejabat Qorvinus")
    store.message(rid, "pesan tambahan Kelabusunyi")
    sid = store.file(rid, FILE, "bukti.pdf", "application/pdf")
    auditor.get("/cases")
    cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "pungli", "submit": "1"})
    post(auditor, f"/cases/{cid}/note", {"text": "catatan Merahjambu", "kind": "note"})
    post(lead, f"/cases/{cid}/decide", {"decision": "not_processed", "reason": "di pengadilan"})
    with Session(store.engine) as s, s.begin():
        s.execute(update(Case).where(Case.id == cid).values(closed_day=closed))
    return rid, sid, cid


def test_disposal_removes_the_content_and_keeps_the_fact(tv, auditor, lead, store):
    rid, sid, cid = _closed_case(auditor, lead, store, dt.date(2021, 3, 15))
    _, _, recent = _closed_case(auditor, lead, store, dt.date(2021, 3, 17))  # not yet
    number = store.query(lambda s: s.get(Case, cid).number)
    assert f"/cases/{cid}\"" in lead.get("/cases", {"q": SECRET.lower()}).text

    page = lead.get("/cases/retention", {"lang": "en"})
    assert number in page.text and "2026-03-15" in page.text
    assert store.query(lambda s: s.get(Case, recent).number) not in page.text
    # An auditor may see the list but not dispose; a lead must confirm.
    auditor.post("/cases/retention", {"csrf_token": csrf(page), "case": str(cid),
                                      "confirm": "1"}, status=403)
    lead.post("/cases/retention", {"csrf_token": csrf(page), "case": str(cid)}, status=400)
    lead.post("/cases/retention", {"csrf_token": csrf(page), "case": str(cid), "confirm": "1"},
              status=303)

    # Gone: the words from the search index, the texts, the thread, the file.
    assert f"/cases/{cid}\"" not in lead.get("/cases", {"q": SECRET.lower()}).text
    assert f"/cases/{cid}\"" not in lead.get("/cases", {"q": "merahjambu"}).text
    case_page = lead.get(f"/cases/{cid}").text
    for word in (SECRET, "Qorvinus", "Kelabusunyi", "Merahjambu", "bukti.pdf"):
        assert word not in case_page, word

    def left(s):
        case = s.get(Case, cid)
        return (case.content, case.review, case.decision_reason, case.report_id,
                s.scalars(select(db.Submission).where(db.Submission.report_id == rid)).all(),
                s.scalars(select(db.Reply).where(db.Reply.report_id == rid)).all(),
                s.get(db.Report, rid),
                [e.kind for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == cid))])
    with db.unlocked(store.key):
        content, review, reason, report_id, subs, replies, report, events = store.query(left)
    assert content == {"case": cid} and review is None and reason is None
    assert report_id is None and subs == [] and replies == [] and report is None
    assert events == ["disposed"]
    assert (tv.path / filestore.relative_path(sid)).read_bytes() == bytes(len(
        (tv.path / filestore.relative_path(sid)).read_bytes()))  # overwritten with zeros
    # The plain metadata stays (statistics), and the audit log keeps the fact.
    kept = store.query(lambda s: s.get(Case, cid))
    assert kept.number == number and kept.outcome == "not_processed"
    entries = [auditlog.Entry.from_dict({**auditlog.parse_line(r.entry, "x").to_dict(),
                                         "hash": r.hash}) for r in store.query(
        lambda s: s.scalars(select(db.AuditLogRow).order_by(db.AuditLogRow.seq)).all())]
    assert auditlog.verify(entries) == []
    [fact] = [e for e in entries if e.action == "case.dispose"]
    assert fact.case == number and fact.actor == lead_key(tv)
    # Listed no more; the other case waits for its own day.
    page = lead.get("/cases/retention", {"lang": "en"})
    assert number not in page.text


def lead_key(tv):
    return tv.lead.key_id


def test_retention_years_come_from_the_policy_file(tmp_path):
    assert retention.load_years(None) == 5
    f = tmp_path / "cases.toml"
    f.write_text("[cases]\nretention_years = 10\n")
    assert retention.load_years(f) == 10
    f.write_text("[cases]\nretention_years = 0\n")
    try:
        retention.load_years(f)
    except retention.RetentionError:
        pass
    else:
        raise AssertionError("0 years accepted")
    assert retention.disposal_day(dt.date(2024, 2, 29), 5) == dt.date(2029, 3, 1)


def test_disposal_by_another_process_leaves_this_ones_index(tv, auditor, lead, store):
    """``peluit workbench dispose`` run while the web UI serves: the UI's in-memory index must
    not keep finding the disposed case's words."""
    from workbench.cases.search import CaseSearch
    from workbench.cases.service import User

    _rid, _sid, cid = _closed_case(auditor, lead, store, dt.date(2020, 1, 6))
    assert f"/cases/{cid}\"" in lead.get("/cases", {"q": SECRET.lower()}).text
    with db.unlocked(store.key), Session(store.engine) as s, s.begin():
        case = s.get(Case, cid)
        retention.dispose(s, User(tv.lead.key_id, "Lead", "lead"), case, tv.path,
                          dt.date(2026, 3, 16), 5, "2026-03-16T09:00Z", CaseSearch())  # its own
    assert f"/cases/{cid}\"" not in lead.get("/cases", {"q": SECRET.lower()}).text
    assert f"/cases/{cid}\"" not in lead.get("/cases", {"q": "merahjambu"}).text
