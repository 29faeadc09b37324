"""Hand-made multipart bodies that no browser sends, against the streaming upload of a report:
bytes that are not UTF-8 in part headers, RFC 5987 file names with path separators, parts
without a disposition, a second CSRF token, encodings the form never uses. Each must be either
accepted as an ordinary report or refused with a clear 4xx page; never a 500, and a refused
body leaves nothing in the store or the database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from dropbox_app.models import Submission
from dropbox_app.store import Store
from tests.fixtures.drop import Browser, csrf, form_token

CSRF = b'Content-Disposition: form-data; name="csrf_token"\r\n\r\n@CSRF@'
FORM = b'Content-Disposition: form-data; name="form_token"\r\n\r\n@FT@'
WHAT = b'Content-Disposition: form-data; name="what"\r\n\r\n' + b"Uang pelicin di loket izin." * 2


def _file(disposition: bytes, extra: bytes = b"", data: bytes = b"bukti") -> bytes:
    return b"Content-Disposition: form-data; " + disposition + b"\r\n" + extra + b"\r\n" + data


CASES = {
    "file name not UTF-8": [CSRF, FORM, WHAT, _file(b'name="files"; filename="a\xff\xfe.txt"')],
    "RFC 5987 name with separators": [CSRF, FORM, WHAT, _file(
        b"name=\"files\"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd")],
    "RFC 5987 name not UTF-8": [CSRF, FORM, WHAT, _file(b"name=\"files\"; filename*=UTF-8''%ff")],
    "field name not UTF-8": [CSRF, FORM, WHAT, _file(b'name="\xff"')],
    "NUL in a field name": [CSRF, FORM, WHAT, _file(b'name="wh\x00at"')],
    "part without disposition": [CSRF, FORM, WHAT, b"Content-Type: text/plain\r\n\r\nx"],
    "header line without colon": [CSRF, FORM, WHAT, b"Garbage\r\n\r\nx"],
    "part without headers": [CSRF, FORM, WHAT, b"\r\nx"],
    "CSRF token twice": [CSRF, CSRF, FORM, WHAT],
    "CSRF token as a file": [_file(b'name="csrf_token"; filename="t"', data=b"@CSRF@"), FORM,
                             WHAT],
    "file before the CSRF token": [_file(b'name="files"; filename="a.txt"'), CSRF, FORM, WHAT],
    "unknown field": [CSRF, FORM, WHAT, _file(b'name="is_admin"', data=b"1")],
    "category not offered": [CSRF, FORM, WHAT, _file(b'name="category"', data=b"../../x")],
    "file in a text field": [CSRF, FORM, WHAT, _file(b'name="what"; filename="w.txt"')],
    "huge part content type": [CSRF, FORM, WHAT, _file(b'name="files"; filename="a.txt"',
                                                        b"Content-Type: " + b"a" * 7000 + b"\r\n")],
    "base64 transfer encoding": [CSRF, FORM, WHAT, _file(
        b'name="files"; filename="a.txt"', b"Content-Transfer-Encoding: base64\r\n",
        b"ZGF0YQ==")],
    "ordinary": [CSRF, FORM, WHAT, _file(b'name="files"; filename="bukti.pdf"')],
}


def _body(parts: list[bytes], boundary: bytes, csrf_token: str, ftoken: str) -> bytes:
    out = b""
    for p in parts:
        p = p.replace(b"@CSRF@", csrf_token.encode()).replace(b"@FT@", ftoken.encode())
        out += b"--" + boundary + b"\r\n" + p + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_handmade_multipart(shared, case):
    b = Browser(shared.reporter())
    b.get_codename()
    b.confirm()
    app = b.app
    page = app.get("/report/new")
    before = set(Store(shared.dep.store_dir).members())
    with shared.dep.db() as db:
        subs = db.scalar(select(func.count()).select_from(Submission))
    body = _body(CASES[case], b"xYzBoundary", csrf(app), form_token(page))
    res = app.request("/report/new/send", method="POST", body=body, expect_errors=True,
                      content_type="multipart/form-data; boundary=xYzBoundary")
    assert res.status_int in (200, 400, 413), (case, res.status_int)
    after = set(Store(shared.dep.store_dir).members())
    with shared.dep.db() as db:
        subs_after = db.scalar(select(func.count()).select_from(Submission))
    if res.status_int == 200:
        assert subs_after > subs
        assert case not in ("file before the CSRF token", "CSRF token as a file",
                            "CSRF token twice", "RFC 5987 name with separators")
    else:
        assert re.search(r"<h1>.+</h1>", res.text), case
        assert after == before, case
        assert subs_after == subs, case
    if case == "ordinary":
        assert res.status_int == 200
