"""Attempts to break the reporter app's protections: headers, methods, CSRF, sessions, login
throttling, the KDF bound, honeypots, and a channel with no auditor."""

from __future__ import annotations

import itertools
import re
import threading

import pytest
from sqlalchemy import func, select

from crypto.kdf import TEST_PARAMS
from dropbox_app import auditors
from dropbox_app.app import make_reporter_app
from dropbox_app.configurator import service
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.loginbudget import LoginBudget
from dropbox_app.models import Report, Reporter, ReporterSession, Submission, Throttle
from dropbox_app.sessions import ABSOLUTE_SECONDS, IDLE_SECONDS
from dropbox_app.store import Store
from dropbox_app.throttle import KdfGate
from tests.fixtures.reporter_client import Reporter as Client
from tests.fixtures.reporter_client import csrf

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def _check_headers(res):
    h = res.headers
    assert h["Content-Security-Policy"] == CSP
    assert h["Cross-Origin-Opener-Policy"] == "same-origin"
    assert h["Cross-Origin-Resource-Policy"] == "same-origin"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Cache-Control"] == "no-store"
    assert "Server" not in h


def test_headers_on_every_kind_of_response(app, reporter):
    responses = [app.get("/"), app.get("/static/peluit.css"), app.get("/nope", status=404),
                 app.request("/", method="PUT", status=405),
                 app.post("/login", {"codename": "x"}, status=400),
                 app.get("/followup", status=403), app.head("/")]
    reporter.get_codename()
    responses.append(app.post("/codename/confirm", {"csrf_token": csrf(app),
                                                    "written_down": "yes"}, status=303))
    for res in responses:
        _check_headers(res)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"])
def test_only_get_head_post(app, method):
    res = app.request("/", method=method, status=405)
    assert res.headers["Allow"] == "GET, HEAD, POST"


POST_ROUTES = ["/codename", "/codename/confirm", "/login", "/logout",
               "/followup/" + "a" * 32 + "/retaliation", "/followup/reply/" + "b" * 32 + "/delete"]


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_csrf_is_required_on_every_urlencoded_form(app, path, token):
    app.get("/")
    params = {"codename": "a b c", "words": "en", "written_down": "yes", "text": "x"}
    if token is not None:
        params["csrf_token"] = token
    res = app.post(path, params, status=400)
    assert "csrf" not in res.text.lower() or "<h1>" in res.text
    assert "Formulir ini sudah kedaluwarsa" in res.text  # the clear page, in Indonesian


def test_csrf_is_required_before_any_file_is_stored(app, reporter, config, db):
    reporter.get_codename()
    reporter.confirm()
    page = app.get("/report/new")
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)
    for first in ([("csrf_token", "forged")], []):
        app.post("/report/new/send", params=[*first, ("form_token", token),
                                             ("what", "x" * 40)],
                 upload_files=[("files", "a.txt", b"secret")],
                 content_type="multipart/form-data", status=400)
    assert list(Store(config.store_dir).members()) == []  # no full slot
    assert db.scalar(select(func.count()).select_from(Submission)) == 0


def test_cookies_carry_no_secret(app, reporter, db):
    reporter.get_codename()
    reporter.confirm()
    reporter.report()
    cookies = {c.name: c for c in app.cookiejar}
    assert set(cookies) == {"csrf", "peluit_session"}
    for c in cookies.values():
        assert c.has_nonstandard_attr("HttpOnly")
        assert c.get_nonstandard_attr("SameSite") == "Strict"
        for word in reporter.codename.split():
            assert word not in c.value
    # The session row holds no readable key material.
    rows = db.scalars(select(ReporterSession)).all()
    assert len(rows) == 1
    assert cookies["peluit_session"].value not in rows[0].id
    rep = db.scalar(select(Reporter))
    assert rep.public_key not in rows[0].sealed


def test_idle_timeout(app, reporter, clock):
    reporter.new_report()
    clock.advance(IDLE_SECONDS - 60)
    reporter.followup()
    clock.advance(IDLE_SECONDS - 60)
    reporter.followup()  # activity keeps it alive
    clock.advance(IDLE_SECONDS + 1)
    res = app.get("/followup", status=403)
    assert "30" in res.text
    assert app.cookies.get("peluit_session") in (None, "")


def test_absolute_timeout(app, reporter, clock, db):
    reporter.new_report()
    for _ in range(ABSOLUTE_SECONDS // (20 * 60) - 1):
        clock.advance(20 * 60)
        reporter.followup()
    clock.advance(20 * 60 + 1)
    app.get("/followup", status=403)
    assert db.scalar(select(func.count()).select_from(ReporterSession)) == 0


def test_logout_wipes_the_session_and_the_old_cookie_is_dead(app, reporter, db):
    reporter.new_report()
    token = app.cookies["peluit_session"]
    reporter.logout()
    assert db.scalar(select(func.count()).select_from(ReporterSession)) == 0
    app.set_cookie("peluit_session", token)
    app.get("/followup", status=403)


def test_forged_session_cookie(app, reporter):
    reporter.new_report()
    app.set_cookie("peluit_session", "A" * 43)
    app.get("/followup", status=403)


def test_login_failures(app, reporter, db):
    codename = reporter.new_report()
    reporter.logout()
    res = reporter.login("not a codename at all", status=400)
    assert "tidak dikenali" in res.text
    words = codename.split()
    wrong = " ".join(words[1:] + words[:1])
    res = reporter.login(wrong, status=400)
    assert "Tidak ada laporan" in res.text
    # Mistyped but normalisable: case, spacing and punctuation do not matter.
    reporter.login("  " + ", ".join(w.upper() for w in words) + " ")
    assert reporter.followup().status_int == 200
    assert db.scalar(select(func.sum(Throttle.count))) == 1  # per id, one failure (no global)


def _app_with(config, engine, clock, **kw):
    import webtest

    return webtest.TestApp(make_reporter_app(config, engine=engine, clock=clock,
                                             argon2=TEST_PARAMS, **kw))


def test_failed_logins_are_throttled_per_lookup_id_and_globally(config, engine, clock, auditor):
    # A global window only where a deployment sets one (see the test below for why not).
    app = _app_with(config, engine, clock, kdf_slots=2, login_limits=(6, 3))
    client = Client(app)
    codename = client.get_codename("en")
    words = codename.split()
    wrong = " ".join(reversed(words))
    for _ in range(3):
        client.login(wrong, status=400)
    assert "Terlalu banyak" in client.login(wrong, status=429).text
    other = " ".join(words[2:] + words[:2])
    for _ in range(3):
        client.login(other, status=400)
    # Six failures in this hour: now every login waits, whatever the codename.
    res = client.login(" ".join(words[1:] + words[:1]), status=429)
    assert res.headers["Retry-After"]
    clock.advance(3600)
    client.login(" ".join(words[1:] + words[:1]), status=400)


def test_wrong_codenames_from_others_never_lock_a_reporter_out(config, engine, clock, auditor):
    # Someone hunting a reporter must not be able to shut the channel by failing on purpose.
    import webtest

    # The budget for failed logins runs out after a few dozen: logins then take turns (see
    # tests/security/test_login_budget.py), here at a pace that keeps this test short.
    app = _app_with(config, engine, clock, kdf_slots=2,
                    login_budget=LoginBudget(pace=1000.0))
    codename = Client(app).new_report()
    words = codename.split()
    attacker = Client(webtest.TestApp(app.app))  # another browser: its own cookies
    # The codename's own words in other orders. A codename may repeat a word, and swapping two
    # equal words gives the codename itself (it did, once in CI): only orders that differ count.
    others = (" ".join(p) for p in itertools.permutations(words))
    wrong = itertools.islice((w for w in others if w != codename), 319)
    for attempt in wrong:  # more than the 300 an hour that once locked everybody out
        attacker.login(attempt, status=400)
    res = Client(webtest.TestApp(app.app)).login(codename, status=303)
    assert res.location.endswith("/followup")


def test_kdf_is_bounded_busy_not_queued(config, engine, clock, auditor):
    app = _app_with(config, engine, clock, kdf_slots=1, kdf_wait=0.05)
    client = Client(app)
    gate = service(app.app, KdfGate)
    with gate.slot():  # another derivation is running
        res = app.post("/codename", {"csrf_token": csrf(app), "words": "en"}, status=503)
        assert res.headers["Retry-After"]
        assert "sibuk" in res.text
    client.get_codename("en")  # free again


def test_concurrent_logins_never_exceed_the_bound(config, engine, clock, auditor):
    """Two derivations run at once, never more; and they do run at once: nothing before the
    KDF may take the database's write lock (SQLite would then serialise every login)."""
    app = _app_with(config, engine, clock, kdf_slots=2, kdf_wait=0.3)
    gate = service(app.app, KdfGate)
    import crypto.kdf

    running, peak, lock = [0], [0], threading.Lock()
    real = crypto.kdf.hash_secret_raw

    def counting(**kw):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            import time

            time.sleep(0.2)
            return real(**kw)
        finally:
            with lock:
                running[0] -= 1

    from crypto import codename as codenames

    wrong = str(codenames.generate("en"))
    crypto.kdf.hash_secret_raw = counting
    statuses = []
    try:
        def one():
            import webtest
            c = webtest.TestApp(app.app)
            r = c.post("/login", {"csrf_token": csrf(c), "codename": wrong}, expect_errors=True)
            statuses.append(r.status_int)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        crypto.kdf.hash_secret_raw = real
    assert gate.slots == 2
    assert peak[0] == 2
    assert set(statuses) == {400, 503}


@pytest.mark.parametrize("path", ["/codename", "/login"])
def test_honeypot(app, path):
    app.post(path, {"csrf_token": csrf(app), "website": "http://spam", "codename": "a",
                    "words": "en"}, status=400)


def test_no_auditor_means_no_submission(bare_app, config, db, clock, engine):
    app = bare_app
    assert "belum menerima laporan" in app.get("/").text
    app.post("/codename", {"csrf_token": csrf(app), "words": "en"}, status=503)
    # A card enrolled, a codename taken, then the card disabled before the report is sent.
    from crypto.identity import AuditorIdentity
    from dropbox_app.db import session_factory

    ident = AuditorIdentity.generate("A")
    with session_factory(engine)() as s, s.begin():
        auditors.enroll(s, ident.card().to_bytes(), clock.day(), actor=SHELL)
    client = Client(app)
    client.get_codename("en")
    client.confirm()
    page = app.get("/report/new")
    with session_factory(engine)() as s, s.begin():
        auditors.set_active(s, ident.key_id, False, actor=SHELL, day=clock.day())
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)
    res = app.post("/report/new/send", params=[("csrf_token", csrf(app)), ("form_token", token),
                                                ("what", "y" * 40)],
                   upload_files=[("files", "a.txt", b"z" * 1000)],
                   content_type="multipart/form-data", status=503)
    assert "Tidak ada kiriman Anda yang disimpan" in res.text
    assert list(Store(config.store_dir).members()) == []  # no full slot
    assert db.scalar(select(func.count()).select_from(Report)) == 0


def test_a_reporter_cannot_touch_another_reporters_report(app, db, config):
    import webtest

    a, b = Client(app), Client(webtest.TestApp(app.app))
    a.new_report()
    b.new_report()
    rid_a = a.report_id()
    page = b.followup()
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)
    b.app.post(f"/followup/{rid_a}/message",
               params=[("csrf_token", csrf(b.app)), ("form_token", token), ("text", "hi")],
               content_type="multipart/form-data", status=404)
    b.app.post(f"/followup/{rid_a}/retaliation",
               {"csrf_token": csrf(b.app), "form_token": token, "text": "hi"}, status=404)
    assert db.scalar(select(func.count()).select_from(Submission)) == 2


def test_abandoned_codename_is_forgotten_after_a_week(app, reporter, db, clock):
    # The codename is registered when it is issued (lookup id and public key only), so that a
    # reporter whose session ends before sending can carry on with it; unused, it goes.
    reporter.get_codename()
    reporter.confirm()
    reporter.logout()
    assert db.scalar(select(func.count()).select_from(Reporter)) == 1
    assert db.scalar(select(func.count()).select_from(ReporterSession)) == 0
    clock.advance(8 * 86400)
    from crypto import codename as codenames

    # A well-formed codename nobody holds: its login runs the housekeeping.
    Client(app).login(str(codenames.generate("id")), status=400)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Reporter)) == 0


def test_unconfirmed_codename_cannot_report(app, reporter):
    reporter.get_codename()
    res = app.post("/codename/confirm", {"csrf_token": csrf(app)}, status=400)
    assert "<h1>" in res.text
    app.get("/report/new", status=403)
