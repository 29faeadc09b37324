"""Attacks on the reporter app through its real WSGI app: where the codename could leak, CSRF
tokens from another browser, session fixation across a login, traces left in the reporter's
browser, a double submit raced from two tabs, and the login throttle fooled by retyping."""

from __future__ import annotations

import re
import threading

import webtest
from sqlalchemy import func, select

from dropbox_app.models import Report, ReporterSession, Submission, Throttle
from dropbox_app.store import Store
from tests.fixtures.drop import Browser, build_drop, csrf, form_token


class Recorder:
    """Wraps a WSGI app and keeps every request line and every response header."""

    def __init__(self, app):
        self.app = app
        self.seen: list[str] = []

    def __call__(self, environ, start_response):
        self.seen.append(environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))

        def start(status, headers, exc_info=None):
            self.seen += [f"{k}: {v}" for k, v in headers]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def test_codename_never_in_a_url_cookie_header_or_later_page(drop):
    rec = Recorder(drop.reporter_wsgi)
    app = webtest.TestApp(rec)
    b = Browser(app)
    codename = b.get_codename()
    words = codename.split()
    b.confirm()
    b.report("Bendahara memalsukan kuitansi perjalanan dinas.")
    pages = [app.get("/report/received"), app.get("/followup")]
    b.logout()
    b.login(codename)
    pages += [app.get("/followup"), b.message("Ada bukti tambahan.", status=200)]
    failed = b.login(" ".join([*words[:-1], "salah"]), status=400)
    pages.append(failed)
    b.logout()
    joined = [codename, "".join(words), "+".join(words), "%20".join(words), "-".join(words)]
    for line in rec.seen:
        for form in joined:
            assert form.lower() not in line.lower(), line
    for cookie in app.cookiejar:
        assert not any(w in cookie.value for w in words if len(w) > 3), cookie.name
    for page in pages:
        assert codename not in page.text
        assert words[0] not in re.findall(r'value="([^"]*)"', page.text)
    # The failed attempt does not echo what was typed back into the page.
    assert "salah" not in failed.text


def test_csrf_token_from_another_browser_is_refused(drop):
    victim = Browser(drop.reporter())
    victim.new_report()
    attacker = drop.reporter()
    foreign = csrf(attacker)
    app = victim.app
    app.post("/logout", {"csrf_token": foreign}, status=400)
    rid = victim.report_id()  # still signed in
    page = app.get("/followup")
    res = app.post(f"/followup/{rid}/message",
                   params=[("csrf_token", foreign), ("form_token", form_token(page)),
                           ("text", "forged")],
                   upload_files=[("files", "x.txt", b"forged")],
                   content_type="multipart/form-data", status=400)
    assert res.status_int == 400
    with drop.dep.db() as db:
        # Only the report itself: nothing of the forged message was stored.
        assert db.scalar(select(func.count()).select_from(Submission)) == 1


def test_login_replaces_the_session_and_kills_the_old_one(drop):
    first = Browser(drop.reporter())
    codename = first.new_report()
    first.logout()
    b = Browser(drop.reporter())
    b.get_codename()  # an abandoned codename's session, in the same browser
    before = b.app.cookies["peluit_session"]
    b.login(codename)
    after = b.app.cookies["peluit_session"]
    assert before != after
    other = drop.reporter()
    other.set_cookie("peluit_session", before)
    other.get("/followup", status=403)
    with drop.dep.db() as db:
        assert db.scalar(select(func.count()).select_from(ReporterSession)) == 1


def test_no_persistent_cookie_is_left_in_the_reporters_browser(drop):
    b = Browser(drop.reporter())
    b.app.get("/?lang=en")
    b.new_report()
    for cookie in b.app.cookiejar:
        # Tor Browser forgets session cookies with New Identity; a dated cookie is a trace
        # that this browser visited the drop, for as long as it says.
        assert cookie.expires is None, cookie.name
        assert cookie.has_nonstandard_attr("HttpOnly"), cookie.name
        assert cookie.get_nonstandard_attr("SameSite") == "Strict", cookie.name


def test_double_submit_raced_from_two_tabs(tmp_path):
    drop = build_drop(tmp_path)
    b = Browser(drop.reporter())
    b.get_codename()
    b.confirm()
    page = b.app.get("/report/new")
    token = form_token(page)
    tabs = []
    for _ in range(2):
        tab = drop.reporter()
        for c in b.app.cookiejar:
            tab.set_cookie(c.name, c.value)
        tabs.append(tab)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send(tab):
        params = [("csrf_token", b.app.cookies["csrf"]), ("form_token", token),
                  ("what", "Pejabat menerima gratifikasi dari rekanan proyek jalan.")]
        barrier.wait()
        res = tab.post("/report/new/send", params=params,
                       upload_files=[("files", "bukti.txt", b"x" * 200_000)],
                       content_type="multipart/form-data", expect_errors=True)
        statuses.append(res.status_int)

    threads = [threading.Thread(target=send, args=(t,)) for t in tabs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200, 409], statuses
    with drop.dep.db() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 1
        members = set(db.scalars(select(Submission.member)))
    assert len(members) == 2  # the report and its one file
    leftovers = set(Store(drop.dep.store_dir).members()) - members
    assert leftovers == set(), leftovers
    drop.dep.engine.dispose()


def test_retyping_a_codename_differently_does_not_escape_the_throttle(tmp_path):
    drop = build_drop(tmp_path, login_limits=(1000, 3))
    owner = Browser(drop.reporter())
    codename = owner.new_report()
    owner.logout()
    words = codename.split()
    # The same wrong guess for one reporter's lookup id, typed in different ways.
    wrong = [*words[:-1], "salah"]
    variants = [" ".join(wrong), " ".join(wrong).upper(), "  ".join(wrong) + " ",
                "\t".join(wrong), " ".join(w.capitalize() for w in wrong)]
    attacker = Browser(drop.reporter())
    answers = [attacker.login(v, status="*").status_int for v in variants]
    assert answers[:3] == [400, 400, 400], answers
    assert set(answers[3:]) == {429}, answers
    with drop.dep.db() as db:
        assert db.scalar(select(func.count()).select_from(Throttle)) == 2  # global + that id
    drop.dep.engine.dispose()
