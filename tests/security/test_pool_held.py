"""No database connection is held while a request waits on its client or on argon2 (issue 18,
findings 7 and 10). The pool holds a handful of connections; an upload held one for its whole
length, so 15 stalled uploads left the landing page waiting 30 s for a connection and then
answering 500. A login waiting for an argon2 slot held one too.

Checked on the pool itself (``checkedout()``), while a real upload over a real socket is
stalled half-way, and while a login waits for a derivation slot that the test holds."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import webtest

from dropbox_app.configurator import replace_service
from dropbox_app.store import Store
from dropbox_app.throttle import KdfGate
from tests.fixtures.drop import Browser, build_drop, csrf, form_token, production_backstop, serving


def _checked_out(drop) -> int:
    return drop.dep.engine.pool.checkedout()


def _wait_for(predicate, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_stalled_upload_holds_no_database_connection(drop):
    app = drop.reporter()
    b = Browser(app)
    b.get_codename()
    b.confirm()
    token = form_token(app.get("/report/new"))
    cookies = "; ".join(f"{c.name}={c.value}" for c in app.cookiejar)
    boundary = "stall0123"
    first = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
             f'{csrf(app)}\r\n--{boundary}\r\nContent-Disposition: form-data; name="form_token"'
             f'\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="files"; '
             f'filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
    first += b"\0" * 400_000  # past the front's small-body buffer: the app is streaming it
    with serving(drop.reporter_wsgi, production_backstop(drop, "reporter")) as port:
        uploads = []
        try:
            for _ in range(3):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(f"POST /report/new/send HTTP/1.1\r\nHost: x\r\nCookie: {cookies}\r\n"
                          f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                          f"Content-Length: {20 * 1024 * 1024}\r\n\r\n".encode() + first)
                uploads.append(s)
            # The uploads are in: their envelopes are being written...
            store = drop.cfg.store_dir
            assert _wait_for(lambda: Store(store).busy() >= 3)
            time.sleep(0.3)
            # ...and not one database connection is checked out for them.
            assert _checked_out(drop) == 0
        finally:
            for s in uploads:
                s.close()


@pytest.mark.parametrize("door", ["login", "codename"])
def test_a_request_waiting_for_an_argon2_slot_holds_no_database_connection(tmp_path, door):
    # A global failure budget (as a deployment may set) is read before the derivation.
    drop = build_drop(tmp_path, login_limits=(1000, 10))
    try:
        gate = KdfGate(1, 10.0)
        replace_service(drop.reporter_wsgi, gate, KdfGate)
        codename = Browser(drop.reporter()).new_report()
        app = webtest.TestApp(drop.reporter_wsgi)
        token = csrf(app)
        result: dict = {}
        form = ({"codename": codename} if door == "login" else {"words": "id"})

        def knock():
            result["res"] = app.post(f"/{door}", {"csrf_token": token, "website": "", **form},
                                     status="*")

        held = gate.slot()
        held.__enter__()
        try:
            t = threading.Thread(target=knock)
            t.start()
            time.sleep(0.8)  # the request is now waiting for the slot the test holds
            assert t.is_alive()
            assert _checked_out(drop) == 0
        finally:
            held.__exit__(None, None, None)
        t.join(30)
        assert result["res"].status_int == (303 if door == "login" else 200)
    finally:
        drop.dep.engine.dispose()
