"""Bad input gets a clear page and a 4xx, never a 500; nothing half-written is left behind."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from dropbox_app.models import Report, Submission
from dropbox_app.store import Store
from tests.fixtures.reporter_client import csrf


def _ready(reporter):
    reporter.get_codename()
    reporter.confirm()
    page = reporter.app.get("/report/new")
    return re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)


def _nothing_stored(config, db):
    assert list(Store(config.store_dir).members()) == []  # no full slot
    assert db.scalar(select(func.count()).select_from(Submission)) == 0
    assert db.scalar(select(func.count()).select_from(Report)) == 0


def _clear_page(res):
    assert "<h1>" in res.text and "Traceback" not in res.text
    assert res.content_type == "text/html"


class _ExplodingInput(io.RawIOBase):
    """A wsgi.input that fails the test if the app reads it."""

    def read(self, n=-1):
        raise AssertionError("the body was read")

    readline = read


def _raw(app, path, method="POST", **environ):
    """Call the WSGI app directly, as the server would, with a body it must not read."""
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "8080", "wsgi.url_scheme": "http", "wsgi.input": _ExplodingInput(),
           "wsgi.errors": io.StringIO(), "SERVER_PROTOCOL": "HTTP/1.1", **environ}
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = dict(headers)

    body = b"".join(app.app(env, start_response))
    return seen["status"], seen["headers"], body


@pytest.mark.parametrize("path, ctype", [
    ("/report/new/send", "multipart/form-data; boundary=x"),
    ("/login", "application/x-www-form-urlencoded"),
    ("/followup/" + "a" * 32 + "/message", "multipart/form-data; boundary=x"),
])
def test_oversized_body_is_refused_before_reading(app, path, ctype):
    status, headers, body = _raw(app, path, CONTENT_LENGTH=str(10 * 1024 ** 3),
                                 CONTENT_TYPE=ctype)
    assert status == 413
    assert b"<h1>" in body and "Content-Security-Policy" in headers


def test_chunked_and_wrong_types_are_refused_before_reading(app):
    assert _raw(app, "/report/new/send", HTTP_TRANSFER_ENCODING="chunked",
                CONTENT_TYPE="multipart/form-data; boundary=x")[0] == 411
    assert _raw(app, "/login", CONTENT_LENGTH="10",
                CONTENT_TYPE="multipart/form-data; boundary=x")[0] == 415
    assert _raw(app, "/report/new/send", CONTENT_LENGTH="10",
                CONTENT_TYPE="application/x-www-form-urlencoded")[0] == 415
    assert _raw(app, "/login", CONTENT_LENGTH="10", CONTENT_TYPE="application/json")[0] == 415
    assert _raw(app, "/", method="GET", CONTENT_LENGTH="10")[0] == 400


def _send(app, body, boundary, status, path="/report/new/send", **kw):
    """POST a hand-made body byte for byte (WebTest would re-encode a multipart one)."""
    return app.request(path, method="POST", body=body, status=status,
                       content_type=f"multipart/form-data; boundary={boundary}", **kw)


def _post_report(app, token, files, fields=(), status=400):
    params = [("csrf_token", csrf(app)), ("form_token", token), ("what", "z" * 40), *fields]
    return app.post("/report/new/send", params=params, upload_files=files,
                    content_type="multipart/form-data", status=status)


def _body(app, token, filename, boundary="b0undary", content=b"secret contents"):
    """A multipart body as a browser builds it (UTF-8 file name in the header)."""
    parts = [("csrf_token", csrf(app)), ("form_token", token), ("what", "z" * 40)]
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                    .encode() for k, v in parts)
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
             f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n').encode()
    return body + content + f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b.txt", "dir\\y.doc", "nul\x00.pdf",
                                  "x" * 300 + ".pdf", "..", "tab\there", "rtl\u202egnp.exe"])
def test_bad_file_names(app, reporter, config, db, name):
    token = _ready(reporter)
    res = _send(app, _body(app, token, name), "b0undary", 400)
    _clear_page(res)
    _nothing_stored(config, db)


@pytest.mark.parametrize("sent, kept", [
    ("Laporan keuangan — Kantor Wilayah (final) ✓.pdf",
     "Laporan keuangan — Kantor Wilayah (final) ✓.pdf"),
    ("C:\\Users\\budi\\nota.pdf", "nota.pdf"),  # old browsers send the Windows path
])
def test_good_file_names_are_kept(app, reporter, config, db, auditor, sent, kept):
    token = _ready(reporter)
    _send(app, _body(app, token, sent, content=b"%PDF"), "b0undary", 200)
    from tests.fixtures.reporter_client import open_submissions

    names = [m.get("name") for m, _ in open_submissions(db, config.store_dir, auditor)]
    assert names == [kept, None]


def test_malformed_multipart(app, reporter, config, db):
    token = _ready(reporter)
    del token
    for body in (b"garbage without boundaries", b"--x\r\nno headers end",
                 b"--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc"):
        res = _send(app, body, "x", 400)
        _clear_page(res)
    app.request("/report/new/send", method="POST", body=b"x", status=400,
                content_type="multipart/form-data")
    _nothing_stored(config, db)


def test_invalid_utf8(app, reporter, config, db):
    token = _ready(reporter)
    boundary = "q"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{csrf(app)}\r\n--{boundary}\r\nContent-Disposition: form-data; name="form_token"'
            f'\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="what"'
            f'\r\n\r\n').encode() + b"\xff\xfe bad bytes " * 5 + f"\r\n--{boundary}--\r\n".encode()
    res = _send(app, body, boundary, 400)
    _clear_page(res)
    res = app.post("/login", f"csrf_token={csrf(app)}&codename=%FF%FE",
                   content_type="application/x-www-form-urlencoded", status=400)
    _clear_page(res)
    _nothing_stored(config, db)


def test_thousands_of_fields(app, reporter, config, db):
    token = _ready(reporter)
    fields = [("what", "x")] * 0 + [(f"f{i}", "v") for i in range(3000)]
    res = _post_report(app, token, [], fields=fields)
    _clear_page(res)
    body = f"csrf_token={csrf(app)}&" + "&".join(f"k{i}=v" for i in range(3000))
    _clear_page(app.post("/login", body, content_type="application/x-www-form-urlencoded",
                         status=400))
    _nothing_stored(config, db)


def test_too_much_text(app, reporter, config, db):
    token = _ready(reporter)
    res = _post_report(app, token, [], fields=[("how", "x" * 200_000)], status=413)
    _clear_page(res)
    _nothing_stored(config, db)


def test_too_short_description_keeps_the_text(app, reporter, config, db):
    token = _ready(reporter)
    res = app.post("/report/new/send",
                   params=[("csrf_token", csrf(app)), ("form_token", token), ("what", "short"),
                           ("where", "Jakarta <script>")],
                   upload_files=[("files", "a.txt", b"data")],
                   content_type="multipart/form-data", status=400)
    assert "Jakarta &lt;script&gt;" in res.text  # kept, and escaped
    _nothing_stored(config, db)


def test_second_submit_of_the_same_form(app, reporter, config, db):
    token = _ready(reporter)
    _post_report(app, token, [("files", "a.txt", b"one")], status=200)
    # The reporter goes back and sends the same page again: nothing is stored twice.
    res = _post_report(app, token, [("files", "a.txt", b"one")], status=409)
    _clear_page(res)
    assert db.scalar(select(func.count()).select_from(Report)) == 1
    page = reporter.followup()
    tok = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)
    rid = reporter.report_id()
    params = [("csrf_token", csrf(app)), ("form_token", tok), ("in_reply_to", ""),
              ("text", "more")]
    app.post(f"/followup/{rid}/message", params=params, content_type="multipart/form-data",
             status=200)
    res = app.post(f"/followup/{rid}/message", params=params,
                   content_type="multipart/form-data", status=409)
    _clear_page(res)
    assert db.scalar(select(func.count()).select_from(Submission)) == 3
    assert len(list(Store(config.store_dir).members())) == 3


def test_interrupted_upload_leaves_nothing(app, reporter, config, db):
    token = _ready(reporter)
    boundary = "cut"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{csrf(app)}\r\n--{boundary}\r\nContent-Disposition: form-data; name="form_token"'
            f'\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="big.bin"\r\n\r\n').encode() + b"A" * 300_000
    # The client announces more than it sends, then the connection ends.
    res = _send(app, body, boundary, 400, headers={"Content-Length": str(len(body) + 1_000_000)})
    _clear_page(res)
    _nothing_stored(config, db)


def test_unknown_and_unread_replies(app, reporter):
    reporter.new_report()
    app.post("/followup/reply/" + "c" * 32 + "/delete", {"csrf_token": csrf(app)}, status=404)
    app.post("/followup/" + "d" * 32 + "/retaliation",
             {"csrf_token": csrf(app), "text": "x", "form_token": "e" * 32}, status=404)
    app.get("/followup/nothing", status=404)


def test_empty_message_and_retaliation(app, reporter):
    reporter.new_report()
    reporter.message("   ", status=400)
    rid = reporter.report_id()
    app.post(f"/followup/{rid}/retaliation", {"csrf_token": csrf(app), "text": " ",
                                              "form_token": "f" * 32}, status=400)
