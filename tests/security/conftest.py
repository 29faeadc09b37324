"""Red-team fixtures: one real deployment on disk (configuration, salt, server key, migrated
SQLite database, store, an enrolled auditor card), with the real reporter and gateway WSGI apps
built by their factories over it, driven by WebTest, and the real HTTP server on loopback for
the attacks WebTest cannot express (raw sockets, lying Content-Length, broken request lines)."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import webtest

from crypto.kdf import TEST_PARAMS
from tests.fixtures.gateway import Deployment, make_deployment


@dataclass
class Drop:
    """A deployment with both apps."""

    dep: Deployment
    reporter_wsgi: Any
    gateway_wsgi: Any

    @property
    def cfg(self):
        return self.dep.cfg

    @property
    def clock(self):
        return self.dep.clock

    def reporter(self) -> webtest.TestApp:
        """A fresh browser (its own cookie jar) on the reporter app."""
        return webtest.TestApp(self.reporter_wsgi)

    def gateway(self) -> webtest.TestApp:
        return webtest.TestApp(self.gateway_wsgi)


def build_drop(tmp_path: Path, **reporter_kw: Any) -> Drop:
    from dropbox_app.app import make_reporter_app

    dep = make_deployment(tmp_path)
    kw = {"argon2": TEST_PARAMS, "kdf_slots": 2, **reporter_kw}
    reporter = make_reporter_app(dep.cfg, engine=dep.engine, clock=dep.clock, **kw)
    return Drop(dep, reporter, dep.app.app)


@pytest.fixture
def drop(tmp_path: Path) -> Iterator[Drop]:
    """A fresh deployment for a test that changes state."""
    d = build_drop(tmp_path)
    yield d
    d.dep.engine.dispose()


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drop]:
    """One deployment for the tests that only look, or compare before and after (building
    one costs ~0.5 s)."""
    d = build_drop(tmp_path_factory.mktemp("drop"))
    yield d
    d.dep.engine.dispose()


def production_backstop(drop: Drop, side: str) -> int:
    """The body limit ``peluit serve`` gives the HTTP server (dropbox_app.cli.cmd_serve)."""
    from dropbox_app.gateway.views import MAX_BUNDLE_UPLOAD

    if side == "reporter":
        return drop.cfg.max_upload_bytes + 2 * 1024 * 1024
    return MAX_BUNDLE_UPLOAD + 1024 * 1024


@pytest.fixture(scope="session")
def ports(shared: Drop) -> Iterator[dict[str, int]]:
    """The shared deployment's two apps behind the real HTTP server, on loopback."""
    from dropbox_app.reporter.render import oversize_page

    page = oversize_page(shared.cfg.default_language)  # as `peluit serve reporter` gives it
    with serving(shared.reporter_wsgi, production_backstop(shared, "reporter"), page) as rp, \
            serving(shared.gateway_wsgi, production_backstop(shared, "gateway")) as gp:
        yield {"reporter": rp, "gateway": gp}


# --- a reporter's browser ---------------------------------------------------------------------

def csrf(app: webtest.TestApp) -> str:
    if "csrf" not in app.cookies:
        app.get("/")
    return app.cookies["csrf"]


def form_token(page: webtest.TestResponse) -> str:
    return re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)


class Browser:
    """Drives the reporter pages as Tor Browser at Safest would: forms only."""

    def __init__(self, app: webtest.TestApp):
        self.app = app
        self.codename = ""

    def get_codename(self, words: str = "id") -> str:
        page = self.app.post("/codename", {"csrf_token": csrf(self.app), "words": words,
                                            "website": ""})
        self.codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page.text))
        assert self.codename
        return self.codename

    def confirm(self) -> webtest.TestResponse:
        return self.app.post("/codename/confirm", {"csrf_token": csrf(self.app),
                                                   "written_down": "yes"}, status=303)

    def report(self, what: str, files=(), status: int = 200, **fields: str):
        page = self.app.get("/report/new")
        params = [("csrf_token", csrf(self.app)), ("form_token", form_token(page)),
                  ("what", what), *fields.items()]
        return self.app.post("/report/new/send", params=params,
                             upload_files=[("files", n, d) for n, d in files],
                             content_type="multipart/form-data", status=status)

    def new_report(self, what: str = "Kepala pengadaan meminta sepuluh persen dari kontrak.",
                   files=(), **fields: str) -> str:
        self.get_codename()
        self.confirm()
        self.report(what, files, **fields)
        return self.codename

    def login(self, codename: str | None = None, status: int = 303):
        return self.app.post("/login", {"csrf_token": csrf(self.app),
                                        "codename": codename or self.codename, "website": ""},
                             status=status)

    def report_id(self) -> str:
        return re.search(r"/followup/([0-9a-f]{32})/message",
                         self.app.get("/followup").text).group(1)

    def message(self, text: str, files=(), in_reply_to: str = "", status: int = 200):
        page = self.app.get("/followup")
        rid = re.search(r"/followup/([0-9a-f]{32})/message", page.text).group(1)
        params = [("csrf_token", csrf(self.app)), ("form_token", form_token(page)),
                  ("in_reply_to", in_reply_to), ("text", text)]
        return self.app.post(f"/followup/{rid}/message", params=params,
                             upload_files=[("files", n, d) for n, d in files],
                             content_type="multipart/form-data", status=status)

    def logout(self):
        return self.app.post("/logout", {"csrf_token": csrf(self.app)})


# --- the real HTTP server on loopback ---------------------------------------------------------

@contextmanager
def serving(wsgi: Any, max_body: int, oversize_page: bytes | None = None) -> Iterator[int]:
    """The production server (dropbox_app.server) on an ephemeral loopback port."""
    from dropbox_app.config import Listen
    from dropbox_app.server import make_server

    srv = make_server(wsgi, Listen("127.0.0.1", 0), max_body, threads=4,
                      oversize_page=oversize_page)
    srv.prepare()
    thread = threading.Thread(target=srv.serve, daemon=True)
    thread.start()
    try:
        yield srv.bind_addr[1]
    finally:
        srv.stop()
        thread.join(5)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with "\n"
    body: bytes
    seconds: float


def raw_request(port: int, data: bytes, timeout: float = 5.0, read_all: bool = True) -> Answer:
    """Send ``data`` as it is and read the answer's head and body (up to Content-Length)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        # The server may answer and close before it has read all we send.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            headers[key] = (headers[key] + "\n" if key in headers else "") + value.strip()
        want = int(headers.get("content-length", "0"))
        while read_all and len(body) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    return Answer(status, headers, body, time.monotonic() - start)
