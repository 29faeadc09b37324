import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.workbench_vault import (
    OTHER_PASS,
    Item,
    add_person,
    build_inbox,
    login,
    report_item,
)
from workbench import db
from workbench.importer import import_bundle

EVIL_NAME = '../"evil"\r\nX-Injected: 1; <b>laporan</b>.html'


@pytest.fixture
def items(tv):
    rep = report_item("Setoran <script>alert('x')</script> ke kepala")
    html = Item("file", b"<html><script>alert(1)</script></html>", report=rep.report,
                reporter_key=rep.reporter_key, name=EVIL_NAME, content_type="text/html")
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [rep, html], seq=1)))
    return rep, html


def test_report_list_and_view_escape_reporter_text(lead_app, items):
    rep, _ = items
    assert rep.report[:8] in lead_app.get("/reports").text
    page = lead_app.get(f"/reports/{rep.report}")
    assert "&lt;script&gt;alert(" in page.text and "<script>" not in page.text
    assert "&lt;b&gt;laporan&lt;/b&gt;" in page.text  # the file name, escaped too


def test_files_are_downloaded_as_attachments_with_a_safe_name(lead_app, items):
    _, html = items
    r = lead_app.get(f"/files/{html.id}")
    assert r.body == html.body
    assert r.content_type == "application/octet-stream"  # never the declared text/html
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition and ".." not in disposition
    assert 'filename="' in disposition and "/" not in disposition.split('filename="')[1]
    assert "sandbox" in r.headers["Content-Security-Policy"]
    assert "X-Injected" not in r.headers


def test_unknown_report_and_file_are_404(lead_app, items):
    rep, _ = items
    lead_app.get("/reports/" + "0" * 32, status=404)
    lead_app.get("/files/" + rep.id, status=404)  # a text submission has no file


def test_writing_a_question(lead_app, tv, items):
    rep, _ = items
    page = lead_app.get(f"/reports/{rep.report}")
    form = page.forms[1]
    form["text"] = "Kapan <uang> diserahkan?"
    form.submit(status=303)
    page = lead_app.get(f"/reports/{rep.report}")
    assert "Kapan &lt;uang&gt; diserahkan?" in page.text
    with db.unlocked(tv.lead.vault_key), Session(db.make_engine(tv.path)) as s:
        [reply] = s.scalars(select(db.Reply)).all()
        assert reply.text == "Kapan <uang> diserahkan?" and reply.author == tv.lead.key_id
    form = lead_app.get(f"/reports/{rep.report}").forms[1]
    form["text"] = "   "
    assert "kosong" in form.submit(status=400).text


def test_question_needs_csrf(lead_app, items):
    rep, _ = items
    lead_app.post(f"/reports/{rep.report}/questions", {"text": "x"}, status=400)


def test_compliance_officer_cannot_reach_content(app, tv, items):
    rep, html = items
    identity = add_person(tv, "Citra", "compliance")
    login(app, identity.key_id, OTHER_PASS)
    for url in (f"/reports/{rep.report}", f"/files/{html.id}", "/reports"):
        r = app.get(url, status=403)
        assert "Setoran" not in r.text
    token = app.get("/").forms[0]["csrf_token"].value
    app.post(f"/reports/{rep.report}/questions", {"text": "x", "csrf_token": token},
             status=403)


def test_what_people_do_is_audited_without_content(app, tv, items):
    from policies import auditlog

    rep, html = items
    login(app, tv.lead.key_id, "wrong passphrase but long", status=403)
    login(app, tv.lead.key_id)
    app.get(f"/files/{html.id}")
    form = app.get(f"/reports/{rep.report}").forms[1]
    form["text"] = "Pertanyaan rahasia"
    form.submit(status=303)
    app.get("/").forms[0].submit(status=303)
    entries = auditlog.load_vault(tv.path)
    # The home page's inbox opens a case for the imported report (as the case list does).
    assert [e.action for e in entries] == [
        "bundle.import", "session.login_failed", "session.login", "file.export", "reply.write",
        "case.create", "session.logout"]
    assert auditlog.verify(entries) == []
    assert {e.actor for e in entries} == {tv.lead.key_id}
    dump = "".join(e.to_bytes().decode() for e in entries)
    assert "rahasia" not in dump and "Setoran" not in dump and "laporan" not in dump


def test_an_erased_or_swapped_file_is_refused_not_served(lead_app, tv, items):
    from workbench import filestore

    rep, html = items
    pdf = Item("file", b"%PDF isi lain", report=rep.report, reporter_key=rep.reporter_key)
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [pdf], seq=2)))
    engine = db.make_engine(tv.path)
    with db.unlocked(tv.lead.vault_key), Session(engine) as s, s.begin():
        a, b = s.get(db.Submission, html.id), s.get(db.Submission, pdf.id)
        # Point the first file's row at the second file's envelope: refused, not served.
        a.file_path, a.file_offset, a.file_length = b.file_path, b.file_offset, b.file_length
    r = lead_app.get(f"/files/{html.id}", status=500)
    assert "isi lain" not in r.text
    with db.unlocked(tv.lead.vault_key), Session(engine) as s:
        sub = s.get(db.Submission, pdf.id)
        filestore.erase(tv.path, sub)
        raw = (tv.path / sub.file_path).read_bytes()
        assert raw[sub.file_offset:sub.file_offset + sub.file_length] == bytes(sub.file_length)
    lead_app.get(f"/files/{pdf.id}", status=500)
    engine.dispose()
