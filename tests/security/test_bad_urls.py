"""URLs and cookies that are not what a browser sends: invalid UTF-8 in the path, the query
string or a cookie. Each must get a clear 4xx page with the protective headers, from the app,
never a 500 (and never an exception escaping to the HTTP server, which would answer with an
empty 500 of its own and log a traceback)."""

from __future__ import annotations

import pytest

from tests.fixtures.drop import raw_request
from tests.fixtures.pages import assert_protected

BAD_URLS = ["/?lang=%ff", "/?%ff=1", "/?a=%c3%28", "/%ff", "/static/%ff.css",
            "/followup?done=%fe", "/login?lang=%ed%a0%80"]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("side", ["reporter", "gateway"])
def test_invalid_utf8_in_the_url_gets_a_clear_400(ports, url, side):
    ans = raw_request(ports[side], f"GET {url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                      .encode())
    assert ans.status == 400, (url, ans.status, ans.body[:200])
    assert ans.headers["content-type"].startswith("text/html")
    assert b"<h1>" in ans.body
    assert_protected(ans.headers, url)


@pytest.mark.parametrize("side", ["reporter", "gateway"])
def test_invalid_utf8_in_a_form_post_url(ports, side):
    body = b"csrf_token=x&codename=a"
    head = ("POST /login?lang=%ff HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    ans = raw_request(ports[side], head.encode() + body)
    assert ans.status == 400
    assert_protected(ans.headers, "POST")


@pytest.mark.parametrize("cookie", ["peluit_session=\xff\xfe", "csrf=\xff", "lang=\xff",
                                    "peluit_gw=\xff", "gw_csrf=\xff", "a" * 8000,
                                    'peluit_session="unterminated', ";;==;;"])
def test_garbage_cookies(shared, cookie):
    for app, paths in ((shared.reporter(), ["/", "/followup", "/report/new"]),
                       (shared.gateway(), ["/", "/login", "/admin"])):
        for path in paths:
            res = app.get(path, extra_environ={"HTTP_COOKIE": cookie}, expect_errors=True)
            assert res.status_int < 500, (cookie, path)
            assert_protected(res.headers, path)
