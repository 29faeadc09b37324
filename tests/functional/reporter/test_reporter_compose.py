"""No lost work: a report or an answer typed for longer than the session lives is accepted on
the form's compose grant; a grant cannot be forged, stretched, moved to another form or used
twice; a first-time reporter whose session ended carries on with the codename."""

from __future__ import annotations

import re

import webtest
from sqlalchemy import func, select

from dropbox_app.config import Config
from dropbox_app.configurator import service
from dropbox_app.models import Report, Submission
from dropbox_app.sessions import ABSOLUTE_SECONDS, IDLE_SECONDS
from tests.fixtures.reporter_client import Reporter as Client
from tests.fixtures.reporter_client import csrf, form_token, open_submissions


def _grant(page) -> str:
    return re.search(r'name="compose" value="([^"]+)"', page.text).group(1)


def _send(app, page, what="Kepala seksi meminta uang pelicin untuk setiap izin usaha.",
          status=200, grant=None, token=None, files=()):
    params = [("csrf_token", csrf(app)), ("form_token", token or form_token(page)),
              ("compose", _grant(page) if grant is None else grant), ("what", what)]
    return app.post("/report/new/send", params=params, content_type="multipart/form-data",
                    upload_files=[("files", n, d) for n, d in files], status=status)


def test_report_typed_past_every_session_limit_is_accepted(app, reporter, clock, db, config,
                                                          auditor):
    reporter.get_codename()
    reporter.confirm()
    page = app.get("/report/new")
    assert "24" in page.text  # the form says how long it stays valid
    clock.advance(ABSOLUTE_SECONDS + IDLE_SECONDS + 60)  # hours of typing
    res = _send(app, page, files=[("nota.pdf", b"%PDF nota")])
    assert "nota.pdf" in res.text  # the acknowledgment names the file, in this response only
    assert 'name="codename"' in res.text  # and offers the way back in: the session is over
    subs = open_submissions(db, config.store_dir, auditor)
    assert sorted(m["kind"] for m, _ in subs) == ["file", "report"]
    # Sent once: the same form again is a duplicate, not a second report.
    _send(app, page, status=409)
    assert db.scalar(select(func.count()).select_from(Report)) == 1
    # The grant opened no session: the report's page needs the codename.
    app.get("/followup", status=403)


def test_a_grant_cannot_be_forged_stretched_or_moved(app, reporter, clock, db):
    reporter.get_codename()
    reporter.confirm()
    page = app.get("/report/new")
    grant = _grant(page)
    before = set(config_store(app).iterdir())
    clock.advance(IDLE_SECONDS + 60)
    body, mac = grant.split(".")
    forged = body + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
    assert "sesi" in _send(app, page, grant=forged, status=403).text.lower()
    _send(app, page, grant="", status=403)
    # Bound to its form token: another form token with this grant is refused.
    _send(app, page, token="0" * 32, status=403)
    # Past its window (at least 24 hours), the grant is refused too.
    clock.advance(25 * 3600)
    _send(app, page, status=403)
    assert db.scalar(select(func.count()).select_from(Submission)) == 0
    assert set(config_store(app).iterdir()) == before


def config_store(app):
    return service(app.app, Config).store_dir


def test_an_answer_typed_past_the_idle_timeout_is_accepted(app, reporter, clock, db, config,
                                                           auditor):
    reporter.new_report()
    page = reporter.followup()
    rid = reporter.report_id()
    clock.advance(IDLE_SECONDS + 60)
    # the page's hidden route field, as a browser sends it (dropbox_app/routing.py)
    params = [("csrf_token", csrf(app)), ("route", "inspectorate"),
              ("form_token", form_token(page)),
              ("compose", _grant(page)), ("in_reply_to", ""), ("text", "Ada bukti tambahan.")]
    res = app.post(f"/followup/{rid}/message", params=params,
                   content_type="multipart/form-data", upload_files=[("files", "a.txt", b"a")])
    assert "a.txt" in res.text
    kinds = sorted(m["kind"] for m, _ in open_submissions(db, config.store_dir, auditor))
    assert kinds == ["file", "message", "report"]
    # A message grant names its report: it cannot write to another reporter's report.
    other = Client(webtest.TestApp(app.app))
    other.new_report()
    other_rid = other.report_id()
    app.post(f"/followup/{other_rid}/message", params=params,
             content_type="multipart/form-data", status=403)


def test_first_time_reporter_comes_back_after_the_session_ended(app, reporter, clock, db):
    codename = reporter.get_codename()
    reporter.confirm()
    clock.advance(IDLE_SECONDS + 60)
    app.get("/report/new", status=403)  # the session is over
    res = reporter.login(codename)
    assert res.location.endswith("/report/new")
    page = res.follow()
    assert 'name="what"' in page.text
    _send(app, page)
    assert db.scalar(select(func.count()).select_from(Report)) == 1


def _relang(app, page, lang):
    fields = {"csrf_token": csrf(app), "form_token": form_token(page), "compose": _grant(page),
              "category": "pungli", "what": "Pungutan di loket tiga <b>setiap</b> hari.",
              "who_name": "Pak Joko", "who_position": "Kepala loket", "who_unit": "Perizinan",
              "where": "Kantor wilayah", "when": "Sejak Januari", "how": "Tunai\nTanpa kuitansi",
              "evidence": "Daftar tarif", "website": ""}
    # Two files chosen: urlencoded, a multiple file input repeats its name once per file.
    body = [*fields.items(), ("files", "a.pdf"), ("files", "b.pdf")]
    return app.post(f"/report/new?lang={lang}", body)


def test_switching_language_keeps_every_field(app, reporter, clock):
    reporter.get_codename()
    reporter.confirm()
    page = app.get("/report/new?lang=id")
    assert 'lang="id"' in page.text
    res = _relang(app, page, "en")
    assert '<html lang="en">' in res.text
    for value in ("Pak Joko", "Kepala loket", "Perizinan", "Kantor wilayah", "Sejak Januari",
                  "Tunai\nTanpa kuitansi", "Daftar tarif",
                  "Pungutan di loket tiga &lt;b&gt;setiap&lt;/b&gt; hari."):
        assert value in res.text, value
    assert 'value="pungli" selected' in res.text
    assert "choose them again" in res.text  # files cannot travel back: the page says so
    # After the session ended, the form's grant still carries the switch.
    clock.advance(3 * 3600)
    again = _relang(app, res, "id")
    assert '<html lang="id">' in again.text and "Pak Joko" in again.text


def test_language_switch_needs_the_csrf_token(app, reporter):
    reporter.get_codename()
    reporter.confirm()
    page = app.get("/report/new")
    app.post("/report/new?lang=en", {"csrf_token": "forged", "what": "x"}, status=400)
    assert page.status_int == 200


def test_follow_up_forms_switch_language_keeping_the_text(app, reporter):
    reporter.new_report()
    page = reporter.followup()
    assert page.text.count('name="form_key"') == 2  # the message and the retaliation forms
    res = app.post("/followup?lang=en", [("csrf_token", csrf(app)), ("form_key", "message"),
                                         ("text", "Bukti tambahan <ada>."), ("files", "a.pdf"),
                                         ("files", "b.pdf")])
    assert '<html lang="en">' in res.text
    assert ">Bukti tambahan &lt;ada&gt;.</textarea>" in res.text
    app.post("/followup?lang=en", {"csrf_token": csrf(app), "form_key": "../x", "text": "t"},
             status=400)
    # The message form still sends normally, with its form_key field.
    reporter.message("Ada bukti tambahan.")
