"""Each step of the inspectorate's process through the real workbench app and a real vault."""

import json
import re

from sqlalchemy import select

from peluit.ground.services import service
from policies import auditlog
from policies.statistics import CaseRecord
from tests.fixtures.cases_web import csrf, intake, post
from workbench import db
from workbench.cases.models import Case
from workbench.cases.search import CaseSearch
from workbench.cases.settings import CaseSettings


def case_row(store, cid):
    return store.query(lambda s: s.get(Case, cid))


def test_offline_intake_review_and_decision_with_roles(auditor, lead, store):
    cid = intake(auditor)
    page = auditor.get(f"/cases/{cid}")
    assert "pelicin" in page.text and "2026-03-26" in page.text  # 3 working days over Nyepi/Lebaran
    post(auditor, f"/cases/{cid}/start", {})
    post(auditor, f"/cases/{cid}/review", {
        "complete_what": "1", "complete_who": "1", "darwas": "1", "category": "pungli",
        "core_issue": "pungli izin", "rule": "UU 31/1999", "submit": "1"})
    assert case_row(store, cid).state == "decision"
    # An auditor cannot make the lead's decision.
    post(auditor, f"/cases/{cid}/decide", {"decision": "adtt", "reason": "x"}, status=403)
    assert case_row(store, cid).state == "decision"
    r = post(lead, f"/cases/{cid}/decide", {"decision": "adtt", "reason": ""}, status=400)
    assert "alasan" in r.text.lower() or "reason" in r.text.lower()
    post(lead, f"/cases/{cid}/decide", {"decision": "adtt", "reason": "bukti awal cukup"})
    row = case_row(store, cid)
    assert row.state == "investigation" and row.decision == "adtt"
    post(auditor, f"/cases/{cid}/close", {"outcome": "substantiated", "note": "x"}, status=403)
    post(lead, f"/cases/{cid}/close", {"outcome": "substantiated", "note": "terbukti",
                                      "policy_improvement": "1"})
    assert case_row(store, cid).outcome == "substantiated"
    # The audit log holds every step, with actors, intact.
    entries = store.query(lambda s: [auditlog.parse_line(r.entry, "t") for r in s.scalars(
        select(db.AuditLogRow).order_by(db.AuditLogRow.seq))])
    assert auditlog.verify(entries) == []
    actions = [e.action for e in entries if e.case]
    assert actions.count("case.decide") == 1 and "case.close" in actions
    assert not any(b"pelicin" in e.to_bytes() or b"Sari" in e.to_bytes() for e in entries)


def test_web_report_verification_thread_and_reporter_status(auditor, lead, store):
    rid = store.report("Dana BOS dipotong kepala sekolah", who_unit="SDN 1")
    page = auditor.get("/cases")
    assert "Dana BOS" in page.text
    cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "corruption",
                                           "submit": "1"})
    post(lead, f"/cases/{cid}/decide", {"decision": "clarify", "reason": "minta bukti"})
    post(auditor, f"/cases/{cid}/ask", {"text": "Apakah ada kuitansi?"})
    # The standard acknowledgment went first (the question is no acknowledgment), then it.
    ack, reply = store.query(lambda s: s.scalars(select(db.Reply).where(
        db.Reply.report_id == rid).order_by(db.Reply.seq)).all())
    assert ack.kind == "message" and "Laporan Anda telah diterima" in ack.text
    assert reply.kind == "question" and reply.text == "Apakah ada kuitansi?"
    store.message(rid, "Ada, foto kuitansi menyusul", in_reply_to=reply.id)
    page = auditor.get(f"/cases/{cid}")
    assert "Ada, foto kuitansi menyusul" in page.text and "Apakah ada kuitansi?" in page.text
    post(auditor, f"/cases/{cid}/verified", {"finding": "kuitansi asli"})
    post(lead, f"/cases/{cid}/decide", {"decision": "investigation", "reason": "cukup"})
    statuses = store.query(lambda s: [c.status for c in s.scalars(
        select(db.StatusChange).where(db.StatusChange.report_id == rid)
        .order_by(db.StatusChange.id))])
    assert statuses == ["verification", "investigation"]
    # The reporter's answers are searchable.
    assert f"/cases/{cid}" in auditor.get("/cases", {"q": "foto kuitansi"}).text


def test_offline_complaint_has_no_question_channel(auditor, lead):
    cid = intake(auditor, channel="phone")
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "pungli", "submit": "1"})
    post(lead, f"/cases/{cid}/decide", {"decision": "clarify", "reason": "telepon balik"})
    r = post(auditor, f"/cases/{cid}/ask", {"text": "?"}, status=400)
    assert "catatan" in r.text or "note" in r.text
    post(auditor, f"/cases/{cid}/note", {"text": "ditelepon, bukti dikirim pos",
                                         "kind": "contact"})
    assert "ditelepon" in auditor.get(f"/cases/{cid}").text


def test_compliance_officer_never_opens_content(compliance, auditor, store):
    cid = intake(auditor)
    page = compliance.get("/cases")
    assert "pelicin" not in page.text and f"/cases/{cid}\"" not in page.text
    assert case_row(store, cid).number in page.text   # metadata is visible
    compliance.get(f"/cases/{cid}", status=403)
    compliance.get("/cases", {"q": "pelicin"}, status=403)
    compliance.get("/cases/new", status=403)
    post(compliance, f"/cases/{cid}/start", {}, status=403)
    assert "pelicin" not in compliance.get("/cases/deadlines").text
    export = json.loads(compliance.get("/cases/export.json").body)
    [rec] = export["cases"]
    CaseRecord.from_dict(rec)  # the shape policies/statistics.py reads
    assert rec["received"] == "2026-03" and "pelicin" not in json.dumps(export)


def test_reporter_text_is_escaped(auditor):
    cid = intake(auditor, what='<script>alert(1)</script><img src=x onerror=alert(2)>')
    page = auditor.get(f"/cases/{cid}")
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert "<script>alert" not in auditor.get("/cases").text


def test_search_filters_and_pages(auditor, store):
    for i in range(55):
        intake(auditor, what=f"pengaduan nomor {i} tentang pengadaan", channel="email")
    intake(auditor, what="gratifikasi tiket pesawat", channel="walk_in")
    page = auditor.get("/cases", {"channel": "email"})
    assert "55" in page.text and "page=2" in page.text
    assert "tiket" in auditor.get("/cases", {"q": "gratifikasi"}).text
    assert "tiket" not in auditor.get("/cases", {"q": "gratifikasi", "channel": "email"}).text
    assert "tiket" in auditor.get("/cases", {"q": "tik"}).text  # prefix
    auditor.get("/cases", {"page": "x"})  # junk page number: first page, no error


def test_duplicates_flagged_and_linked(auditor):
    first = intake(auditor)
    copy = intake(auditor, channel="copy")
    page = auditor.get(f"/cases/{copy}")
    assert f"/cases/{first}" in page.text and "%" in page.text
    number = re.search(r"<h1>[^<]*?(\d{4}-\d{6})</h1>", auditor.get(f"/cases/{first}").text)[1]
    post(auditor, f"/cases/{copy}/duplicate", {"of": number})
    assert "2026" in auditor.get(f"/cases/{copy}").text
    r = post(auditor, f"/cases/{first}/duplicate", {"of": "2026-999999"}, status=400)
    assert "2026-999999" not in r.text  # message is from the catalog, not echoed input


def test_deadlines_view(auditor):
    old = intake(auditor, received="2025-10-01")
    intake(auditor, received="2026-03-16")
    page = auditor.get("/cases/deadlines")
    assert f"/cases/{old}" in page.text.split("<h2>")[1]  # in the overdue section


def test_physical_file_register(auditor, lead):
    cid = intake(auditor)
    post(auditor, f"/cases/{cid}/lend", {"borrower": "Eka (Irban II)", "purpose": "audit",
                                         "due_back": "2026-03-27"})
    post(auditor, f"/cases/{cid}/lend", {"borrower": "Fajar", "purpose": ""}, status=400)
    page = lead.get("/cases/register", {"out": "1"})
    assert "Eka (Irban II)" in page.text
    loan = re.search(r"/cases/loans/(\d+)/return", page.text)[1]
    post(lead, f"/cases/loans/{loan}/return", {})
    assert "Eka" not in lead.get("/cases/register", {"out": "1"}).text
    assert "Eka" in lead.get("/cases/register").text


def test_bad_input_gives_clear_4xx(auditor):
    form = auditor.get("/cases/new").forms[1]
    form["what"] = "x"
    form["received"] = "16-03-2026"
    r = form.submit(status=400)
    assert "TTTT-BB-HH" in r.text  # Indonesian by default
    form["received"] = "2026-03-20"
    form.submit(status=400)  # in the future
    auditor.get("/cases/99999", status=404)
    cid = intake(auditor)
    post(auditor, f"/cases/{cid}/fly", {}, status=404)
    post(auditor, f"/cases/{cid}/decide", {"decision": "x", "reason": "y"}, status=403)
    auditor.post(f"/cases/{cid}/start", {}, status=400)  # no CSRF token


def test_english_and_indonesian(auditor):
    assert "Kasus" in auditor.get("/cases").text
    assert "Cases" in auditor.get("/cases?lang=en").text


def test_search_index_forgotten_when_everyone_logs_out(make_client, tv, store):
    lead = make_client(tv.lead.key_id)
    intake(lead)
    lead.get("/cases", {"q": "pelicin"})
    search = service(make_client.app, CaseSearch)
    assert search.index.search("pelicin")
    page = lead.get("/")
    lead.post("/logout", {"csrf_token": csrf(page)}, status=303)
    lead.get("/login")  # any request after the last key holder left
    assert search.index.empty
    lead = make_client(tv.lead.key_id)
    assert "pelicin" in lead.get("/cases", {"q": "pelicin"}).text  # rebuilt on demand


def test_amended_decree_moves_open_deadlines(tv, auditor, store):
    cid = intake(auditor)
    assert case_row(store, cid).due_acknowledge.isoformat() == "2026-03-26"
    (tv.path / "cases.toml").write_text(
        '[calendar]\n[[calendar.override]]\ndate = "2026-03-25"\nworking = false\n'
        'note = "SKB amendment"\n\n[cases.categories]\nkorupsi = "Korupsi"\n'
        'lainnya = "Lain-lain"\n', encoding="utf-8")
    from workbench.web import make_app
    app = make_app(tv.path, demo_not_air_gapped=True)
    assert case_row(store, cid).due_acknowledge.isoformat() == "2026-03-27"
    assert service(app, CaseSettings).categories == {"korupsi": "Korupsi", "lainnya": "Lain-lain"}


def test_no_plaintext_of_cases_or_index_at_rest(tv, auditor, lead, store):
    """Type in, review, search, note, forward-decide: no file of the vault holds the words."""
    secret = "Zamrudkhatulistiwa"
    cid = intake(auditor, what=f"{secret} pelicin", who_name="Pejabat Qorvinus",
                 sender="Ibu Sari")
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "pungli",
                                           "core_issue": "Rahasiaku inti", "submit": "1"})
    post(auditor, f"/cases/{cid}/note", {"text": "catatan Kelabuhitam", "kind": "note"})
    post(lead, f"/cases/{cid}/decide", {"decision": "not_processed", "reason": "Alasanrahasia"})
    assert f"/cases/{cid}" in auditor.get("/cases", {"q": secret.lower()}).text
    words = [secret, "Qorvinus", "Sari", "Rahasiaku", "Kelabuhitam", "Alasanrahasia"]
    for path in tv.path.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            for w in words:
                assert w.lower().encode() not in data, (path.name, w)


def test_each_action_says_it_was_done(auditor, lead, store):
    """After a step the case page says so (in the page's language); before, the redirect landed
    on the case page with nothing to show the step was taken."""
    cid = intake(auditor)
    r = post(auditor, f"/cases/{cid}/start", {})
    assert r.location.endswith(f"/cases/{cid}?done=start")
    page = auditor.get(r.location + "&lang=id")
    assert page.html.find(id="action-done").text.strip() == "Penelaahan dimulai."
    r = post(auditor, f"/cases/{cid}/note", {"text": "catatan"})
    page = auditor.get(r.location + "&lang=en")
    assert page.html.find(id="action-done").text.strip() == "Note added."
    # Only the names of real steps show anything; a refused step shows no success.
    assert auditor.get(f"/cases/{cid}?done=<b>x</b>").html.find(id="action-done") is None
    post(auditor, f"/cases/{cid}/decide", {"decision": "adtt", "reason": "x"}, status=403)
    assert auditor.get(f"/cases/{cid}").html.find(id="action-done") is None
