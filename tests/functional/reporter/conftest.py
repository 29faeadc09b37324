"""Fixtures of the reporter app's functional tests: a real app (WebTest, no mocks) on a fresh
database per test, run once on SQLite and once on a real PostgreSQL server."""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import webtest

from crypto.envelope import open_bytes
from crypto.identity import AuditorIdentity
from crypto.kdf import TEST_PARAMS
from dropbox_app import auditors
from dropbox_app.app import make_reporter_app
from dropbox_app.config import Config
from dropbox_app.db import make_engine, session_factory, upgrade
from dropbox_app.gateway.adminlog import SHELL
from peluit.ground.clock import FixedClock
from tests.fixtures.postgres import postgres_server  # noqa: F401 - a fixture

START = 1_795_000_000.0  # a fixed "now" (2026-11-19), so expiries can be stepped through


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(request: pytest.FixtureRequest) -> tuple[object, str]:
    server = request.getfixturevalue("postgres_server")
    name = server.create_database()
    upgrade(server.url(name))
    return server, name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "peluit.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        # One migrated database for the session, emptied before each test: much faster than
        # a database per test, and the tests never run in parallel.
        server, name = request.getfixturevalue("pg_template")
        url = server.url(name)
        from dropbox_app.models import Base

        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        eng = make_engine(url)
        with eng.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} CASCADE")
        eng.dispose()
        yield url


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Config:
    (tmp_path / "secrets").mkdir()
    salt = tmp_path / "secrets" / "deployment.salt"
    salt.write_bytes(secrets.token_bytes(32))
    return Config(base_dir=tmp_path, deployment_id=secrets.token_hex(16), database_url=db_url,
                  store_dir=tmp_path / "store", salt_file=salt,
                  server_key_file=tmp_path / "secrets" / "server.key",
                  max_upload_bytes=8 * 1024 * 1024)


@pytest.fixture
def engine(config: Config):
    eng = make_engine(config.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine):
    """A session outside the app, for looking at what the app stored."""
    with session_factory(engine)() as s:
        yield s


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def auditor(engine, clock) -> AuditorIdentity:
    ident = AuditorIdentity.generate("Auditor Satu")
    with session_factory(engine)() as s, s.begin():
        auditors.enroll(s, ident.card().to_bytes(), clock.day(), actor=SHELL)
    return ident


@pytest.fixture
def bare_app(config, engine, clock) -> webtest.TestApp:
    """The app with no auditor enrolled."""
    return webtest.TestApp(make_reporter_app(config, engine=engine, clock=clock,
                                             argon2=TEST_PARAMS, kdf_slots=2))


@pytest.fixture
def app(bare_app, auditor) -> webtest.TestApp:
    return bare_app


def csrf(app: webtest.TestApp) -> str:
    if "csrf" not in app.cookies:
        app.get("/")
    return app.cookies["csrf"]


def form_token(page: webtest.TestResponse) -> str:
    return re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)


class Reporter:
    """Drives the reporter journey the way a browser would."""

    def __init__(self, app: webtest.TestApp):
        self.app = app
        self.codename: str | None = None

    def get_codename(self, words: str = "id") -> str:
        page = self.app.post("/codename", {"csrf_token": csrf(self.app), "words": words,
                                            "website": ""})
        self.codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page.text))
        return self.codename

    def confirm(self) -> None:
        res = self.app.post("/codename/confirm", {"csrf_token": csrf(self.app),
                                                  "written_down": "yes"})
        assert res.status_int == 303

    def report(self, what: str = "The head of procurement takes 10% of every contract.",
               files: list[tuple[str, bytes]] = (), status: int = 200, **fields: str):
        page = self.app.get("/report/new")
        params = [("csrf_token", csrf(self.app)), ("form_token", form_token(page)),
                  ("what", what), *fields.items()]
        upload = [("files", name, data) for name, data in files]
        return self.app.post("/report/new/send", params=params, upload_files=upload,
                             content_type="multipart/form-data", status=status)

    def new_report(self, **kw) -> str:
        codename = self.get_codename()
        self.confirm()
        self.report(**kw)
        return codename

    def login(self, codename: str | None = None, status: int = 303):
        return self.app.post("/login", {"csrf_token": csrf(self.app),
                                        "codename": codename or self.codename, "website": ""},
                             status=status)

    def followup(self):
        return self.app.get("/followup")

    def report_id(self) -> str:
        return re.search(r'/followup/([0-9a-f]{32})/message', self.followup().text).group(1)

    def message(self, text: str, files=(), in_reply_to: str = "", status: int = 200):
        page = self.followup()
        rid = re.search(r'/followup/([0-9a-f]{32})/message', page.text).group(1)
        params = [("csrf_token", csrf(self.app)), ("form_token", form_token(page)),
                  ("in_reply_to", in_reply_to), ("text", text)]
        return self.app.post(f"/followup/{rid}/message", params=params,
                             upload_files=[("files", n, d) for n, d in files],
                             content_type="multipart/form-data", status=status)

    def logout(self):
        return self.app.post("/logout", {"csrf_token": csrf(self.app)})


@pytest.fixture
def reporter(app) -> Reporter:
    return Reporter(app)


def open_submissions(db, store_dir: Path, identity: AuditorIdentity) -> list[tuple[dict, bytes]]:
    """Decrypt every stored submission with the auditor's key, as the workbench would."""
    from sqlalchemy import select

    from dropbox_app.models import Submission

    out = []
    for sub in db.scalars(select(Submission).order_by(Submission.id)):
        data = (store_dir / sub.member).read_bytes()
        assert len(data) == sub.padded_size
        meta, body = open_bytes(data, [identity.box])
        assert meta["submission"] == sub.id and meta["report"] == sub.report_id
        assert sub.kind == "submission"  # the real kind is only in the envelope
        out.append((meta, body))
    return sorted(out, key=lambda s: s[0]["kind"])


def report_json(subs: list[tuple[dict, bytes]]) -> dict:
    [(_, body)] = [s for s in subs if s[0]["kind"] == "report"]
    return json.loads(body)
