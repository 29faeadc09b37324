"""Attacks on the auditor gateway through its real WSGI app: a one-time code used twice at the
same moment (a phishing proxy racing the auditor), role escalation by an auditor, CSRF from
another session, session fixation, and what the gateway shows."""

from __future__ import annotations

import threading

import webtest
from sqlalchemy import func, select

from dropbox_app.gateway.passphrase import PassphraseHasher
from dropbox_app.models.gateway import GatewaySession, GatewayUser
from tests.fixtures.gateway import code, create_account, csrf, login, page_csrf
from tests.fixtures.pages import assert_protected


def _concurrent_logins(drop, acct, typed: str, n: int) -> list[int]:
    """``n`` browsers post the same passphrase and code at the same instant."""
    apps = [webtest.TestApp(drop.gateway_wsgi) for _ in range(n)]
    tokens = [csrf(a) for a in apps]
    barrier = threading.Barrier(n)
    statuses: list[int] = []

    def go(app, token):
        barrier.wait()
        res = app.post("/login", {"csrf_token": token, "username": acct.username,
                                  "passphrase": acct.passphrase, "code": typed},
                       expect_errors=True)
        statuses.append(res.status_int)

    threads = [threading.Thread(target=go, args=(a, t)) for a, t in zip(apps, tokens,
                                                                         strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return statuses


def test_one_totp_code_opens_one_session_even_when_raced(tmp_path):
    from tests.fixtures.drop import build_drop

    # A costlier hasher widens the window between reading the account and writing the used
    # step, as the production cost does.
    drop = build_drop(tmp_path)
    drop.dep.hasher = PassphraseHasher({"time_cost": 2, "memory_cost": 16 * 1024,
                                        "parallelism": 1})
    from dropbox_app.gateway import make_gateway_app

    drop.gateway_wsgi = make_gateway_app(drop.cfg, engine=drop.dep.engine, clock=drop.clock,
                                         hasher=drop.dep.hasher)
    acct = create_account(drop.dep, "ani")
    for _ in range(3):
        drop.clock.advance(30)
        statuses = _concurrent_logins(drop, acct, code(drop.dep, acct), 2)
        assert sorted(statuses) == [303, 403], statuses
    with drop.dep.db() as db:
        assert db.scalar(select(func.count()).select_from(GatewaySession)) == 3
    drop.dep.engine.dispose()


def test_auditor_cannot_escalate(drop):
    dep = drop.dep
    acct = create_account(dep, "budi", role="auditor")
    login(dep, acct)
    app = dep.app
    token = page_csrf(dep)
    for path, params in (("/admin/users", {"username": "mallory", "role": "admin"}),
                         ("/admin/users/budi/reset", {}),
                         ("/admin/users/budi/unlock", {}),
                         ("/admin/cards/check", {"card": "x"}),
                         ("/admin/cards", {"card": "x", "compared": "yes"}),
                         ("/admin/cards/" + "a" * 32 + "/disable", {}),
                         ("/admin/server-key/rotate", {})):
        res = app.post(path, {"csrf_token": token, **params}, expect_errors=True)
        assert res.status_int in (403, 303), path
        if res.status_int == 303:
            assert "/admin" not in res.location or "/reauth" in res.location, path
        assert_protected(res.headers, path)
    app.get("/admin", status=403)
    with dep.db() as db:
        assert db.scalar(select(GatewayUser.role).where(GatewayUser.username == "budi")) \
            == "auditor"
        assert db.scalar(select(func.count()).select_from(GatewayUser)) == 1


def test_admin_cannot_create_an_unknown_role(drop):
    dep = drop.dep
    admin = create_account(dep, "root1", role="admin")
    login(dep, admin)
    for role in ("Admin", "superuser", "admin ", "compliance", "", "lead"):
        res = dep.app.post("/admin/users", {"csrf_token": page_csrf(dep, "/admin"),
                                            "username": "eve", "role": role}, status=400)
        assert_protected(res.headers, role)
    with dep.db() as db:
        assert db.scalar(select(func.count()).select_from(GatewayUser)) == 1


def test_csrf_token_of_another_browser_is_refused(drop):
    dep = drop.dep
    acct = create_account(dep, "ani")
    login(dep, acct)
    other = webtest.TestApp(drop.gateway_wsgi)
    foreign = csrf(other)
    for path in ("/inbox", "/logout"):
        dep.app.post(path, {"csrf_token": foreign}, status=400)
    # still signed in: the forged logout did nothing
    assert dep.app.get("/").status_int == 200


def test_session_cookie_is_new_at_every_login_and_dies_at_logout(drop):
    dep = drop.dep
    acct = create_account(dep, "ani")
    dep.app.set_cookie("peluit_gw", "planted-by-attacker-" + "x" * 20)
    login(dep, acct)
    token = dep.app.cookies["peluit_gw"]
    assert "planted" not in token and len(token) >= 40
    jar = {c.name: c for c in dep.app.cookiejar if c.value == token}
    cookie = jar["peluit_gw"]
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "Strict"
    assert cookie.expires is None  # gone when the browser (or its identity) goes
    assert acct.passphrase.split()[0] not in token
    dep.app.post("/logout", {"csrf_token": page_csrf(dep)}, status=303)
    with dep.db() as db:
        assert db.scalar(select(func.count()).select_from(GatewaySession)) == 0
    dep.app.set_cookie("peluit_gw", token)
    assert dep.app.get("/", status=303).location.endswith("/login")
    # A second login must not keep the first session's id either.
    login(dep, acct)
    assert dep.app.cookies["peluit_gw"] != token
