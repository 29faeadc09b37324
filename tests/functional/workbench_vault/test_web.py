import pytest

from peluit.ground.services import service
from tests.fixtures.workbench_vault import OTHER_PASS, add_person, login
from workbench import airgap
from workbench.web import make_app
from workbench.web.headers import CSP
from workbench.web.security import SessionStore
from workbench.web.views.auth import LoginThrottle


def test_every_page_says_not_air_gapped_in_demo_mode(lead_app):
    for url, status in (("/login", 303), ("/", 200), ("/reports", 200), ("/nowhere", 404)):
        r = lead_app.get(url, status=status)
        assert r.headers["X-Peluit-Air-Gap"] == airgap.BANNER
        if status != 303:
            assert airgap.BANNER in r.text


def test_app_refuses_to_start_with_a_network_interface_up(tv):
    if not airgap.interfaces_up():
        pytest.skip("no network interface is up on this machine")
    with pytest.raises(airgap.NotAirGappedError):
        make_app(tv.path)


def test_security_headers(app):
    r = app.get("/login")
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "<script" not in r.text


def test_login_unlocks_and_logout_locks(app, tv):
    assert app.get("/reports", status=303).location.endswith("/login")
    r = login(app, tv.lead.key_id)
    assert r.location.endswith("/")
    assert "Lead Ani" in app.get("/").text
    app.get("/reports", status=200)
    home = app.get("/")
    home.forms[0].submit(status=303)
    assert app.get("/reports", status=303).location.endswith("/login")


def test_wrong_passphrase_is_refused_and_throttled(app, tv):
    for _ in range(5):
        r = login(app, tv.lead.key_id, "wrong passphrase but long", status=403)
        assert "salah" in r.text  # Indonesian by default
    login(app, tv.lead.key_id, "wrong passphrase but long", status=429)
    login(app, tv.lead.key_id, status=429)  # even the right one waits: no oracle while locked


def test_login_needs_a_csrf_token(app, tv):
    app.get("/login")
    app.post("/login", {"auditor": tv.lead.key_id, "passphrase": "x"}, status=400)


def test_session_cookie_changes_at_login(app, tv):
    app.get("/login")
    before = app.cookies["wb_session"]
    login(app, tv.lead.key_id)
    assert app.cookies["wb_session"] != before


def test_compliance_officer_sees_no_content(app, tv):
    identity = add_person(tv, "Citra", "compliance")
    login(app, identity.key_id, OTHER_PASS)
    assert "agregat" in app.get("/").text
    app.get("/reports", status=403)
    assert "/reports" not in app.get("/").text  # not in the navigation either


def test_english_on_request(app):
    assert "Unlock the workbench" in app.get("/login?lang=en").text
    assert "Unlock the workbench" in app.get("/login").text  # remembered
    assert "Buka kunci" in app.get("/login?lang=id").text


def test_an_interface_coming_up_locks_a_running_workbench(tv, tmp_path):
    import webtest

    sysfs = tmp_path / "net"
    (sysfs / "lo").mkdir(parents=True)
    (sysfs / "lo" / "flags").write_text("0x9\n")
    (sysfs / "lo" / "operstate").write_text("unknown\n")
    app = webtest.TestApp(make_app(tv.path, sysfs=sysfs))  # air-gapped: no banner
    assert "X-Peluit-Air-Gap" not in app.get("/login").headers
    login(app, tv.lead.key_id)
    app.get("/reports", status=200)
    (sysfs / "usb0").mkdir()
    (sysfs / "usb0" / "flags").write_text("0x1003\n")
    (sysfs / "usb0" / "operstate").write_text("up\n")
    assert "mengunci dirinya" in app.get("/reports", status=503).text
    (sysfs / "usb0" / "operstate").write_text("down\n")
    (sysfs / "usb0" / "flags").write_text("0x1002\n")
    app.get("/reports", status=503)  # stays locked until restarted
    assert not service(app.app, SessionStore)._sessions  # every key dropped


def test_other_host_names_are_refused_against_dns_rebinding(app):
    app.get("/login", headers={"Host": "127.0.0.1:8090"}, status=200)
    app.get("/login", headers={"Host": "[::1]:8090"}, status=200)
    r = app.get("/login", headers={"Host": "attacker.example:8090"}, status=400)
    assert "127.0.0.1" in r.text and r.headers["Cache-Control"] == "no-store"


def test_invented_names_are_not_throttled_or_audited(app, tv):
    from policies import auditlog

    form = app.get("/login").forms[0]
    token = form["csrf_token"].value
    for i in range(20):
        app.post("/login", {"csrf_token": token, "auditor": f"nobody-{i}",
                            "passphrase": "whatever passphrase"}, status=403)
    assert not service(app.app, LoginThrottle)._failures
    login(app, tv.lead.key_id)  # the real person is not locked out by noise
    assert [e.action for e in auditlog.load_vault(tv.path)] == ["session.login"]


def test_malformed_requests_are_refused_before_pyramid(app):
    import time

    app.get("/reports/%ff", status=400)
    app.get("/login?lang=%ff%fe", status=400)
    app.request("/login", method="PUT", status=405)
    app.request("/login", method="DELETE", status=405)
    app.post("/login", "x" * (2 << 20), status=413)
    start = time.monotonic()
    r = app.get("/login", headers={"Cookie": "a=" + "\\" * 60000 + "; wb_lang=en"})
    assert time.monotonic() - start < 5
    assert "Unlock the workbench" in r.text  # the well-formed pair survived
