"""Assignment and recusal (workbench/cases/access.py), with a real vault and the real app.

The attacker is an auditor with a conflict of interest: having declared it (or not being among
the case's assignees), they try every door to the case's content: the list, the search, the
deadline lists, the home page, the case page and its actions, the report pages, the files
(download, preview, safe copy), the forwarding package, and the vault database file itself."""

import json
import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.cases_web import csrf, post
from tests.fixtures.workbench_vault import OTHER_PASS, add_person
from workbench import db, trust
from workbench.cases.models import Case

SECRET = "Auditor Dedi menerima amplop dari kepala dinas"


@pytest.fixture
def colleague(make_client, tv):
    ident = add_person(tv, "Auditor Eko", "auditor")
    return ident, make_client(ident.key_id, OTHER_PASS)


def _case(store, client, what=SECRET):
    rid = store.report(what, who_name="Dedi")
    sid = store.file(rid, b"%PDF-1.4 amplop", "amplop.pdf", "application/pdf")
    client.get("/cases")  # opens the case for the imported report
    cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
    return rid, sid, cid


def test_recused_auditor_is_kept_out_everywhere(auditor, lead, store, people, tv):
    rid, sid, cid = _case(store, lead)
    number = store.query(lambda s: s.get(Case, cid).number)
    page = auditor.get(f"/cases/{cid}")
    assert SECRET in page.text
    assert number in auditor.get("/cases", {"q": "amplop kepala dinas"}).text
    # the auditor declares a conflict of interest
    auditor.post(f"/cases/{cid}/recuse", {"csrf_token": csrf(page)}, status=400)  # unconfirmed
    auditor.post(f"/cases/{cid}/recuse", {"csrf_token": csrf(page), "confirm": "1"}, status=303)
    # not listed, not found by search, not on the home page, not among the reports
    assert number not in auditor.get("/cases").text
    assert number not in auditor.get("/cases", {"q": "amplop kepala dinas"}).text
    assert number not in auditor.get("/cases/deadlines").text
    assert number not in auditor.get("/").text
    assert rid not in auditor.get("/reports").text
    # every door that names the case, its report or its files is closed
    r = auditor.get(f"/cases/{cid}", status=403)
    assert SECRET not in r.text
    auditor.get(f"/reports/{rid}", status=403)
    auditor.get(f"/files/{sid}", status=403)
    auditor.get(f"/cases/{cid}/files/{sid}/preview", status=403)
    auditor.post(f"/cases/{cid}/files/{sid}/safe-copy", {"csrf_token": csrf(page)}, status=403)
    auditor.post(f"/cases/{cid}/note", {"csrf_token": csrf(page), "text": "x"}, status=403)
    auditor.post(f"/cases/{cid}/forward", {"csrf_token": csrf(page)}, status=403)
    auditor.post(f"/reports/{rid}/questions", {"csrf_token": csrf(page), "text": "x"},
                 status=403)
    # the lead still works the case, and sees the declaration
    page = lead.get(f"/cases/{cid}")
    assert SECRET in page.text and "Auditor Dedi" in page.text
    # the lead cannot assign the recused auditor
    post(lead, f"/cases/{cid}/assign", {"member": people["auditor"].key_id}, status=400)
    # the audit log has the declaration
    entries = store.query(lambda s: [json.loads(r.entry) for r in s.scalars(
        select(db.AuditLogRow).order_by(db.AuditLogRow.seq))])
    assert any(e["action"] == "case.recuse" and e["actor"] == people["auditor"].key_id
               and e["case"] == number for e in entries)
    # and no later case.read by the auditor
    recused_at = max(e["seq"] for e in entries if e["action"] == "case.recuse")
    assert not any(e["action"] == "case.read" and e["actor"] == people["auditor"].key_id
                   and e["seq"] > recused_at for e in entries)


def test_assignment_keeps_other_auditors_out(auditor, lead, store, people, colleague, tv):
    ident, eko = colleague
    rid, sid, cid = _case(store, lead)
    number = store.query(lambda s: s.get(Case, cid).number)
    # before assignment every auditor can open it
    assert SECRET in eko.get(f"/cases/{cid}").text
    post(lead, f"/cases/{cid}/assign", {"member": people["auditor"].key_id})
    assert SECRET in auditor.get(f"/cases/{cid}").text
    assert number in auditor.get("/cases").text
    eko.get(f"/cases/{cid}", status=403)
    eko.get(f"/files/{sid}", status=403)
    eko.get(f"/reports/{rid}", status=403)
    assert number not in eko.get("/cases").text
    assert number not in eko.get("/cases", {"q": "amplop kepala dinas"}).text
    # an auditor cannot assign
    post(auditor, f"/cases/{cid}/assign", {"member": ident.key_id}, status=403)
    # the lead reassigns: Eko in, Dedi out
    post(lead, f"/cases/{cid}/assign", {"member": ident.key_id})
    assert SECRET in eko.get(f"/cases/{cid}").text
    auditor.get(f"/cases/{cid}", status=403)
    entries = store.query(lambda s: [json.loads(r.entry) for r in s.scalars(
        select(db.AuditLogRow).order_by(db.AuditLogRow.seq))])
    assigns = [e for e in entries if e["action"] == "case.assign" and e["case"] == number]
    assert [a["details"]["assigned"] for a in assigns] == [[people["auditor"].key_id],
                                                         [ident.key_id]]
    assert all(a["actor"] == tv.lead.key_id for a in assigns)


def test_deleting_a_recusal_in_the_file_is_refused(auditor, lead, store, people, tv):
    """Someone with the vault directory but not the vault key deletes the recusal row to let
    the auditor back in: the vault's seal no longer matches, and it refuses to open."""
    rid, sid, cid = _case(store, lead)
    page = auditor.get(f"/cases/{cid}")
    auditor.post(f"/cases/{cid}/recuse", {"csrf_token": csrf(page), "confirm": "1"}, status=303)
    conn = sqlite3.connect(tv.path / db.DB_FILE)
    try:
        with conn:
            assert conn.execute("DELETE FROM case_recusals").rowcount == 1
    finally:
        conn.close()
    with pytest.raises(trust.TamperedVault, match="case recusals"):
        _open_checked(tv)
    del rid, sid


def _open_checked(tv):
    engine = db.make_engine(tv.path)
    try:
        with trust.sealing(trust.seal_keys(tv.lead.vault_key)), Session(engine) as s, s.begin():
            s.execute(select(Case.id)).all()
    finally:
        engine.dispose()
