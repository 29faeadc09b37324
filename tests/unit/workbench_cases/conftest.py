import datetime as dt
import os

import pytest
from sqlalchemy.orm import Session

from peluit.ground.clock import FixedClock
from policies.calendar import WorkingCalendar
from workbench import db, trust
from workbench.cases.search import CaseSearch
from workbench.cases.service import CaseService, User, sketch_key

AUDITOR = User("a" * 32, "Ani", "auditor")
LEAD = User("b" * 32, "Budi", "lead")
COMPLIANCE = User("c" * 32, "Citra", "compliance")

CALENDAR = WorkingCalendar()


@pytest.fixture
def vault_key():
    return os.urandom(32)


@pytest.fixture
def engine(tmp_path, vault_key):
    eng = db.make_engine(tmp_path)
    db.create_schema(eng)
    with eng.begin() as conn:  # what vault.init does: the (empty) trust records, sealed
        trust.reseal(conn, trust.seal_keys(vault_key))
    yield eng
    eng.dispose()


@pytest.fixture
def svc(engine, vault_key):
    with db.unlocked(vault_key), Session(engine) as session:
        service = CaseService(session, CaseSearch(), CALENDAR,
                              FixedClock(dt.datetime(2026, 3, 16, 3, 0, tzinfo=dt.UTC)),
                              sketch_key(vault_key))
        yield service
        session.commit()


def add_report(session, what, day="2026-03-16", category="pungli", **form):
    """A report as the vault's bundle import stores it."""
    rid = os.urandom(16).hex()
    session.add(db.Report(id=rid, reporter_key=os.urandom(32), received_day=day))
    seq = (session.query(db.Submission).count() or 0) + 1
    session.add(db.Submission(
        id=os.urandom(16).hex(), seq=seq, report_id=rid, kind="report", received_day=day,
        content={"category": category, "what": what, **form}, size=0, sha256="0" * 64,
        import_seq=1))
    session.flush()
    return rid


def add_message(session, rid, text, in_reply_to=None, day="2026-03-16"):
    seq = session.query(db.Submission).count() + 1
    sub = db.Submission(id=os.urandom(16).hex(), seq=seq, report_id=rid, kind="message",
                        received_day=day, content={"text": text, "in_reply_to": in_reply_to},
                        size=0, sha256="0" * 64, import_seq=2)
    session.add(sub)
    session.flush()
    return sub
