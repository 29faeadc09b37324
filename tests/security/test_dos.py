"""Cheap requests that must not cost the server much: a lying Content-Length, a huge Cookie
header. Each is sent over a raw socket to the real HTTP server; the answer must come while the
client still waits (a few seconds), where a server that read the body or choked on the header
would keep the connection for minutes."""

from __future__ import annotations

import pytest

from dropbox_app.configurator import replace_service
from dropbox_app.security import clean_environ
from dropbox_app.throttle import KdfGate
from tests.fixtures.drop import Browser, csrf, raw_request
from tests.fixtures.pages import assert_protected

REPORTER_POSTS = ["/report/new/send", "/followup/" + "a" * 32 + "/message", "/login",
                  "/codename", "/logout", "/nope"]
GATEWAY_POSTS = ["/replies", "/login", "/inbox", "/admin/users"]


def _post(path: str, length: int, ctype: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode() + b"tiny"


@pytest.mark.parametrize("length", [300 * 1024, 600 * 1024 * 1024, 10 ** 15])
@pytest.mark.parametrize("side,path", [("reporter", p) for p in REPORTER_POSTS]
                         + [("gateway", p) for p in GATEWAY_POSTS])
def test_huge_content_length_is_refused_without_reading(ports, shared, side, path, length):
    streaming = path.endswith(("send", "message", "replies"))
    ctype = "multipart/form-data; boundary=b" if streaming else "application/x-www-form-urlencoded"
    if streaming:  # over the upload limits (500 MiB for reports, 1 GiB for reply bundles)
        length = max(length, 2 * 1024 ** 3)
    # Only 4 of the announced bytes ever come: a server that waited for the rest would
    # not answer before the client's timeout.
    ans = raw_request(ports[side], _post(path, length, ctype), timeout=5)
    assert ans.status == 413, (path, length, ans.status)
    assert_protected(ans.headers, path)


def test_huge_cookie_header_costs_nothing(ports):
    # 60 KB of word characters: WebOb's cookie regex would spend minutes of CPU on it.
    junk = "a" * 60_000
    for side in ("reporter", "gateway"):
        ans = raw_request(ports[side], f"GET / HTTP/1.1\r\nHost: x\r\nCookie: {junk}\r\n"
                          "Connection: close\r\n\r\n".encode(), timeout=10)
        assert ans.status in (200, 303)
        assert_protected(ans.headers, side)


def test_junk_beside_real_cookies_does_not_break_a_session(shared):
    app = shared.reporter()
    b = Browser(app)
    b.get_codename()
    b.confirm()
    real = "; ".join(f"{c.name}={c.value}" for c in app.cookiejar)
    junk = "a" * 20_000
    res = app.get("/report/new", extra_environ={"HTTP_COOKIE": f"{junk}; {real}; x=\"y"})
    assert res.status_int == 200


def test_cookie_cleaning_is_bounded():
    env = {"HTTP_COOKIE": "; ".join(f"c{i}=v" for i in range(1000)) + "; " + "b" * 100_000}
    clean_environ(env)
    assert env["HTTP_COOKIE"].count("=") == 16
    env = {"HTTP_COOKIE": 'peluit_session=abc-_DEF; csrf="0123abcd"; lang=id; bad="q; =x'}
    clean_environ(env)
    assert env["HTTP_COOKIE"] == 'peluit_session=abc-_DEF; csrf="0123abcd"; lang=id'


def test_argon2_bound_answers_busy_on_every_door(drop):
    """With every key-derivation slot taken, codename creation, codename login and gateway
    sign-in answer 503 "busy" at once, with a page, instead of queueing."""
    from tests.fixtures.gateway import create_account
    from tests.fixtures.gateway import csrf as gw_csrf

    gates = []
    for wsgi in (drop.reporter_wsgi, drop.gateway_wsgi):
        gate = KdfGate(1, 0.05)
        replace_service(wsgi, gate, KdfGate)
        gates.append(gate)
    held = [g.slot() for g in gates]
    for h in held:
        h.__enter__()
    try:
        app = drop.reporter()
        for path, params in (("/codename", {"words": "id"}),
                             ("/login", {"codename": "satu dua tiga empat lima enam tujuh"})):
            res = app.post(path, {"csrf_token": csrf(app), "website": "", **params},
                           status=503)
            assert res.headers["Retry-After"] and "<h1>" in res.text
            assert_protected(res.headers, path)
        acct = create_account(drop.dep, "ani")
        gw = drop.gateway()
        res = gw.post("/login", {"csrf_token": gw_csrf(gw), "username": "ani",
                                 "passphrase": acct.passphrase, "code": "123456"}, status=503)
        assert "<h1>" in res.text
        assert_protected(res.headers, "gateway login")
    finally:
        for h in held:
            h.__exit__(None, None, None)
    # Freed, the doors open again.
    Browser(drop.reporter()).get_codename()
