"""Workbench form bodies are parsed in memory (workbench/web/forms.py): a long question, the
unlock passphrase and a multipart upload never reach a temporary file, and a form that cannot
be read is a clear 4xx page. (The strace proof on a served process is test_workbench_canary.)"""

import io
import tempfile

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.workbench_vault import PASS, build_inbox, login, report_item
from workbench import db
from workbench.importer import import_bundle


@pytest.fixture
def no_temp_files(monkeypatch):
    """Any temporary file made while a request is handled is a failure (WebOb makes one with
    tempfile.TemporaryFile for a form body over 10 KB)."""
    def refuse(*args, **kwargs):
        raise AssertionError("a temporary file was made for a request body")
    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)


def test_a_long_question_and_the_passphrase_stay_in_memory(app, tv, no_temp_files):
    rep = report_item("Pungli di loket")
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [rep], seq=1)))
    token = app.get("/login").forms[0]["csrf_token"].value
    # The login body over 10 KB (a padding field the view ignores).
    app.post("/login", {"csrf_token": token, "auditor": tv.lead.key_id, "passphrase": PASS,
                        "pad": "x" * 12_000}, status=303)
    page = app.get(f"/reports/{rep.report}")
    text = "Kapan uang diserahkan? " * 600  # about 14 KB
    app.post(f"/reports/{rep.report}/questions",
             {"csrf_token": page.forms[1]["csrf_token"].value, "text": text}, status=303)
    with db.unlocked(tv.lead.vault_key), Session(db.make_engine(tv.path)) as s:
        [reply] = s.scalars(select(db.Reply)).all()
        assert reply.text == text.strip() or reply.text == text


def test_the_csrf_check_reads_the_in_memory_form(app, tv, no_temp_files):
    token = app.get("/login").forms[0]["csrf_token"].value
    r = app.post("/login", {"csrf_token": token + "x", "auditor": tv.lead.key_id,
                            "passphrase": PASS, "pad": "x" * 12_000}, status=400)
    assert "kedaluwarsa" in r.text
    login(app, tv.lead.key_id)


@pytest.mark.parametrize("body", [
    b"csrf_token=a&csrf_token=b&auditor=x&passphrase=y",   # a field twice
    b"csrf_token=%ff&auditor=x",                            # not UTF-8
    b"&".join([b"f=1"] * 200),                              # too many fields
])
def test_an_unreadable_form_is_a_400_page(app, body):
    app.get("/login")
    r = app.post("/login", body, content_type="application/x-www-form-urlencoded", status=400)
    assert "Formulir tidak dapat dibaca" in r.text and "Traceback" not in r.text


def test_a_truncated_multipart_form_is_a_400_page(lead_app):
    page = lead_app.get("/cases/agencies")
    token = page.forms[len(page.forms) - 1]["csrf_token"].value
    body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            + token.encode() + b"\r\n--b\r\nContent-Disposition: form-data; name=\"name\"")
    r = lead_app.post("/cases/agencies", body, content_type="multipart/form-data; boundary=b",
                      status=400)
    assert "Traceback" not in r.text
