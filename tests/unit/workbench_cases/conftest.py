import datetime as dt
import os

import pytest
from sqlalchemy.orm import Session

from peluit.ground.clock import FixedClock
from tests.fixtures.cases import CALENDAR
from workbench import db, trust
from workbench.cases.search import CaseSearch
from workbench.cases.service import CaseService, sketch_key


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
