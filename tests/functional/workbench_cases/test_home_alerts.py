"""Issue 19 on the home page: new evidence on a closed case raises an alert, and an inbox or
reply bundle overdue by the carrying schedule (one every working day) is shown. Today is Monday
16 March 2026 (conftest.NOW); Nyepi and cuti bersama close 18-20 March."""

import datetime as dt
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.cases_web import post
from tests.fixtures.workbench_vault import build_inbox, make_vault, report_item
from workbench import db
from workbench.cases.models import Case
from workbench.exporter import export_replies
from workbench.importer import import_bundle


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


def _exported(store, day):
    with db.unlocked(store.key), Session(store.engine) as s, s.begin():
        db.set_setting(s, db.EXPORTED_SETTING, day)


def test_reply_bundle_overdue_by_the_carrying_schedule(auditor, store):
    """Every group carries a reply bundle every working day, with or without anything new
    (crypto/replyentry.py): a group that skips days shows the server when it worked."""
    assert 'id="export-overdue"' not in auditor.get("/").text  # nothing exported yet
    _exported(store, "2026-03-13")  # Friday: the next is due Monday, today
    assert 'id="export-overdue"' not in auditor.get("/").text
    _exported(store, "2026-03-12")  # Thursday: due Friday, overdue today
    page = auditor.get("/", {"lang": "en"})
    assert 'id="export-overdue"' in page.text and "even with nothing new" in page.text
    assert "Nothing needs you today" not in page.text
    page = auditor.get("/", {"lang": "id"})
    assert "Bundel balasan terlambat" in page.text


def test_an_export_sets_the_day_the_schedule_counts_from(tmp_path):
    tv = make_vault(tmp_path)
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [report_item()], seq=1)))
    export_replies(tv.lead, tmp_path / "r.bundle", today=dt.date(2026, 3, 12))
    engine = db.make_engine(tv.path)
    try:
        with db.unlocked(tv.lead.vault_key), Session(engine) as s:
            assert db.get_setting(s, db.EXPORTED_SETTING) == "2026-03-12"
    finally:
        engine.dispose()
