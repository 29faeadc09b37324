"""Every response of both apps carries the protective headers, whoever produced it: a view, an
exception view, the static view, a redirect, HEAD, the method filter, or the HTTP server itself
(the server answers malformed requests and its body backstop without asking the app)."""

from __future__ import annotations

import pytest

from tests.fixtures.drop import Browser, csrf, raw_request
from tests.fixtures.pages import assert_protected


def test_reporter_headers_on_every_kind_of_response(shared):
    app = shared.reporter()
    b = Browser(app)
    seen = [
        ("landing", app.get("/")),
        ("landing en", app.get("/?lang=en")),
        ("css", app.get("/static/peluit.css")),
        ("css HEAD", app.head("/static/peluit.css")),
        ("missing static", app.get("/static/nope.css", status=404)),
        ("static traversal", app.get("/static/../app.py", status=404)),
        ("404", app.get("/nope", status=404)),
        ("HEAD", app.head("/")),
        ("HEAD 404", app.head("/nope", status=404)),
        ("POST on a GET route", app.post("/", {"csrf_token": csrf(app)}, status=404)),
        ("GET on a POST route", app.get("/login", status=404)),
        ("405", app.request("/", method="DELETE", status=405)),
        ("csrf 400", app.post("/login", {"codename": "a"}, status=400)),
        ("415", app.post("/login", b"{}", content_type="application/json", status=415)),
        ("no session 403", app.get("/followup", status=403)),
    ]
    # The page that shows the codename must never be cached.
    seen.append(("codename", app.post("/codename", {"csrf_token": csrf(app), "words": "id",
                                                    "website": ""})))
    seen.append(("redirect", b.confirm()))
    for what, res in seen:
        assert_protected(res.headers, what)


def test_gateway_headers_on_every_kind_of_response(shared):
    app = shared.gateway()
    seen = [
        ("redirect to login", app.get("/", status=303)),
        ("login", app.get("/login")),
        ("HEAD login", app.head("/login")),
        ("404", app.get("/nope", status=404)),
        ("405", app.request("/login", method="PUT", status=405)),
        ("csrf", app.post("/login", {"username": "x"}, status=400)),
        ("admin without login", app.get("/admin", status=303)),
    ]
    for what, res in seen:
        assert_protected(res.headers, what)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT",
                                    "PROPFIND"])
@pytest.mark.parametrize("side", ["reporter", "gateway"])
def test_only_get_head_post(ports, method, side):
    ans = raw_request(ports[side], f"{method} /login HTTP/1.1\r\nHost: x\r\n"
                      "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
    assert ans.status == 405, method
    assert_protected(ans.headers, method)
    if method != "CONNECT":  # CONNECT goes to the app like any method
        assert ans.headers["allow"] == "GET, HEAD, POST"
        # the app's own error page, in the deployment's language
        assert ans.headers["content-type"].startswith("text/html")
        assert b"<h1>" in ans.body and b'lang="id"' in ans.body


# The server's own answers: it replies to these without calling the application.
SERVER_ANSWERS = {
    "malformed request line": b"GARBAGE\r\n\r\n",
    "header line without a colon": b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "request URI too long": b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "body over the server's backstop": (b"POST /report/new/send HTTP/1.1\r\nHost: x\r\n"
                                        b"Content-Type: multipart/form-data; boundary=b\r\n"
                                        b"Content-Length: 99999999999999\r\n\r\nxx"),
}


@pytest.mark.parametrize("what", sorted(SERVER_ANSWERS))
@pytest.mark.parametrize("side", ["reporter", "gateway"])
def test_headers_on_the_http_servers_own_answers(ports, what, side):
    ans = raw_request(ports[side], SERVER_ANSWERS[what])
    assert 400 <= ans.status < 500, what
    assert_protected(ans.headers, what)


def test_a_body_over_the_backstop_gets_a_page_in_both_languages(ports, shared):
    # The app never sees this request; the reporter still learns what went wrong, in words.
    ans = raw_request(ports["reporter"], SERVER_ANSWERS["body over the server's backstop"])
    assert ans.status == 413
    assert ans.headers["content-type"] == "text/html; charset=utf-8"
    assert ans.headers["connection"] == "close"
    assert_protected(ans.headers, "413 page")
    page = ans.body.decode("utf-8")
    assert len(ans.body) == int(ans.headers["content-length"])
    first = shared.cfg.default_language
    # Both languages, the deployment's as the page's one h1, the other under it.
    heading = {"id": "Terlalu besar", "en": "Too large"}
    assert page.count("<h1>") == 1
    assert f"<h1>{heading[first]}</h1>" in page
    assert f"<h2>{heading['en' if first == 'id' else 'id']}</h2>" in page
    other = "en" if first == "id" else "id"
    assert f'<html lang="{first}">' in page  # the deployment's language first
    assert page.index(f'<section lang="{first}">') < page.index(f'<section lang="{other}">')
    assert "<script" not in page and "http" not in page  # nothing loaded from anywhere else


@pytest.mark.parametrize("side", ["reporter", "gateway"])
def test_headers_through_the_real_server(ports, side):
    for req in (b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                b"HEAD /login HTTP/1.0\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                b"GET /static/peluit.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
        ans = raw_request(ports[side], req)
        assert ans.status in (200, 303, 404)
        assert_protected(ans.headers, req.decode())
