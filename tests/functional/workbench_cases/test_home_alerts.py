"""Issue 19 on the home page: new evidence on a closed case raises an alert, and an inbox bundle
overdue by the carrying schedule (one every working day) is shown. Today is Monday 16 March 2026
(conftest.NOW); Nyepi and cuti bersama close 18-20 March."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.cases_web import post
from workbench import db
from workbench.cases.models import Case


def _close(auditor, lead, store, rid):
    auditor.get("/cases")
    cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "pungli", "submit": "1"})
    post(lead, f"/cases/{cid}/decide", {"decision": "not_processed", "reason": "di pengadilan"})
    auditor.get(f"/cases/{cid}")  # read so far
    return cid


def test_new_evidence_on_a_closed_case_raises_an_alert(auditor, lead, store):
    rid = store.report("Kepala dinas meminta uang pelicin")
    cid = _close(auditor, lead, store, rid)
    assert 'id="closed-new"' not in auditor.get("/", {"lang": "en"}).text
    store.message(rid, "Ini bukti baru: rekaman percakapan")
    page = auditor.get("/", {"lang": "en"})
    assert 'id="closed-new"' in page.text and f"/cases/{cid}\"" in page.text
    assert "decide whether to reopen it" in page.text
    auditor.get(f"/cases/{cid}")  # read: the alert goes
    assert 'id="closed-new"' not in auditor.get("/", {"lang": "en"}).text


def _carried(store, day):
    # As an import writes it: in a sealed transaction (the settings are trust records).
    with db.unlocked(store.key), Session(store.engine) as s, s.begin():
        row = s.get(db.Setting, db.CARRIED_SETTING)
        if row is None:
            s.add(db.Setting(name=db.CARRIED_SETTING, value=day))
        else:
            row.value = day


def test_bundle_overdue_by_the_carrying_schedule(auditor, store):
    assert 'id="carry-overdue"' not in auditor.get("/").text  # nothing imported yet
    _carried(store, "2026-03-13")  # Friday: the next bundle is due Monday, today
    assert 'id="carry-overdue"' not in auditor.get("/").text
    _carried(store, "2026-03-12")  # Thursday: due Friday, overdue today
    page = auditor.get("/", {"lang": "en"})
    assert 'id="carry-overdue"' in page.text and "2026-03-13" in page.text
    assert "Nothing needs you today" not in page.text
