"""Fixtures of the reporter app's functional tests: a real app (WebTest, no mocks) on a fresh
database per test, run once on SQLite and once on a real PostgreSQL server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import webtest

from crypto.identity import AuditorIdentity
from crypto.kdf import TEST_PARAMS
from dropbox_app import auditors
from dropbox_app.app import make_reporter_app
from dropbox_app.config import Config
from dropbox_app.db import make_engine, session_factory, upgrade
from dropbox_app.gateway.adminlog import SHELL
from peluit.ground.clock import FixedClock
from tests.fixtures.reporter_client import Reporter
from tests.fixtures.server_config import hand_config

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
    return hand_config(tmp_path, db_url, max_upload_bytes=8 * 1024 * 1024)


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


@pytest.fixture
def reporter(app) -> Reporter:
    return Reporter(app)
