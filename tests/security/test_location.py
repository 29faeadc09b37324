"""Redirects never echo the Host header.

WebOb makes a relative ``Location`` absolute from the request's Host header, so whatever a
client puts there (another site's name, a bare CR, a NUL) came back in the answer's headers: an
open redirect and a header-injection lever. The apps' redirects are paths of their own routes;
the browser resolves them against the onion address it is at, which nobody else chooses."""

from __future__ import annotations

import pytest

from tests.fixtures.drop import Browser, csrf, raw_request

HOSTS = ["evil.example", "evil.example\r", "evil.example\x00x", "x\rLocation: http://evil",
         "evil.example:80/#", "127.0.0.1:1@evil.example"]


def _own_path(location: str, path: str) -> None:
    assert location == path, location
    assert "evil" not in location


@pytest.mark.parametrize("host", HOSTS)
def test_reporter_redirects_ignore_the_host_header(drop, host):
    browser = Browser(drop.reporter())
    browser.get_codename()
    # Another Host: the cookie jar would not send the cookies, so they go as they are.
    env = {"HTTP_HOST": host,
           "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in browser.app.cookies.items())}
    res = browser.app.post("/codename/confirm", {"csrf_token": csrf(browser.app),
                                                 "written_down": "yes"},
                           extra_environ=env, status=303)
    _own_path(res.headers["Location"], "/report/new")
    browser.report("Kepala pengadaan meminta sepuluh persen dari kontrak.")
    env["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in browser.app.cookies.items())
    res = browser.app.get("/report/new", extra_environ=env, status=303)
    _own_path(res.headers["Location"], "/followup")


@pytest.mark.parametrize("host", HOSTS)
def test_gateway_redirects_ignore_the_host_header(shared, host):
    res = shared.gateway().get("/", extra_environ={"HTTP_HOST": host}, status=303)
    _own_path(res.headers["Location"], "/login")


@pytest.mark.parametrize("host", [b"evil.example", b"evil.example\x00x", b"evil\rx"])
def test_through_the_real_server(ports, host):
    for side in ("gateway",):
        answer = raw_request(ports[side], b"GET / HTTP/1.1\r\nHost: " + host
                             + b"\r\nConnection: close\r\n\r\n")
        if answer.status == 400:  # the server refused the header itself: also fine
            continue
        assert answer.status == 303, answer
        _own_path(answer.headers["location"], "/login")
