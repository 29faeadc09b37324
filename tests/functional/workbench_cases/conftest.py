import datetime as dt
import os

import pytest
import webtest
from sqlalchemy.orm import Session

from crypto import envelope
from peluit.ground.clock import Clock, FixedClock
from peluit.ground.services import replace_service
from tests.fixtures.workbench_vault import OTHER_PASS, PASS, add_person, login, make_vault
from workbench import db, filestore, vault
from workbench.web import make_app

COMPLIANCE_PASS = "compliance passphrase x"
NOW = dt.datetime(2026, 3, 16, 3, 0, tzinfo=dt.UTC)  # Monday 16 March 2026, 10:00 WIB


@pytest.fixture
def tv(tmp_path):
    return make_vault(tmp_path)


@pytest.fixture
def people(tv):
    return {"auditor": add_person(tv, "Auditor Dedi", "auditor"),
            "compliance": add_person(tv, "Compliance Citra", "compliance", COMPLIANCE_PASS)}


@pytest.fixture
def make_client(tv):
    """A logged-in client of one shared app (so sessions and the index are the app's own)."""
    app = make_app(tv.path, demo_not_air_gapped=True)
    replace_service(app, FixedClock(NOW), Clock)

    def client(key_id, passphrase=PASS):
        c = webtest.TestApp(app)
        login(c, key_id, passphrase)
        return c
    client.app = app
    return client


@pytest.fixture
def lead(make_client, tv):
    return make_client(tv.lead.key_id)


@pytest.fixture
def auditor(make_client, people):
    return make_client(people["auditor"].key_id, OTHER_PASS)


@pytest.fixture
def compliance(make_client, people):
    return make_client(people["compliance"].key_id, COMPLIANCE_PASS)


class Vault:
    """Writes into the vault DB what a bundle import would (the import is the vault's part)."""

    def __init__(self, tv):
        self.tv = tv
        self.key = tv.lead.vault_key
        self.engine = db.make_engine(tv.path)

    def _seq(self, session):
        return (session.query(db.Submission).count() or 0) + 1

    def report(self, what, day="2026-03-16", **form):
        rid = os.urandom(16).hex()
        with db.unlocked(self.key), Session(self.engine) as s, s.begin():
            s.add(db.Report(id=rid, reporter_key=os.urandom(32), received_day=day))
            s.add(db.Submission(id=os.urandom(16).hex(), seq=self._seq(s), report_id=rid,
                                kind="report", received_day=day,
                                content={"category": "pungli", "what": what, **form}, size=0,
                                sha256="0" * 64, import_seq=1))
        return rid

    def message(self, rid, text, in_reply_to=None, kind="message", day="2026-03-16"):
        with db.unlocked(self.key), Session(self.engine) as s, s.begin():
            s.add(db.Submission(id=os.urandom(16).hex(), seq=self._seq(s), report_id=rid,
                                kind=kind, received_day=day,
                                content={"text": text, "in_reply_to": in_reply_to}, size=0,
                                sha256="0" * 64, import_seq=2))

    def file(self, rid, data, name, content_type, day="2026-03-16"):
        sid = os.urandom(16).hex()
        box = vault.vault_box_key(self.key)
        rel = filestore.relative_path(sid)
        path = self.tv.path / rel
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(envelope.seal_bytes(data, [box.public_key], {"submission": sid}))
        with db.unlocked(self.key), Session(self.engine) as s, s.begin():
            s.add(db.Submission(id=sid, seq=self._seq(s), report_id=rid, kind="file",
                                received_day=day, file_name=name, content_type=content_type,
                                size=len(data), sha256="0" * 64, file_path=rel, import_seq=1))
        return sid

    def query(self, fn):
        with db.unlocked(self.key), Session(self.engine) as s:
            return fn(s)


@pytest.fixture
def store(tv):
    v = Vault(tv)
    yield v
    v.engine.dispose()
