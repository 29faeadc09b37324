"""``request.session_state`` (dropbox_app/reporter/session_state.py) over a real SQLite database:
a login never keeps the token it came with, an ended session says so, nothing is written for a
request that never looked at the session."""

import datetime as dt
import secrets
from types import SimpleNamespace

import pytest
from nacl.public import PrivateKey
from sqlalchemy import select

from dropbox_app.models import ReporterSession
from dropbox_app.reporter.session_state import SessionState
from dropbox_app.sessions import COOKIE, IDLE_SECONDS, Sessions
from peluit.ground.clock import FixedClock

LOOKUP = secrets.token_bytes(32)


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2026, 3, 16, 3, 0, tzinfo=dt.UTC))


def _request(db, clock, token=None):
    return SimpleNamespace(cookies={COOKIE: token} if token else {}, dbsession=db, clock=clock)


def test_a_login_replaces_the_token_it_came_with(db, clock):
    old, _ = Sessions(db, clock).create(PrivateKey.generate(), LOOKUP, None, False)
    db.flush()
    state = SessionState(_request(db, clock, old))
    state.replace(PrivateKey.generate(), LOOKUP, "r" * 32, True)
    db.flush()
    assert state.token != old
    assert len(db.scalars(select(ReporterSession)).all()) == 1  # the old row is gone
    assert SessionState(_request(db, clock, old)).data is None
    assert SessionState(_request(db, clock, state.token)).data.reporter_id == "r" * 32


def test_an_ended_session_is_expired_and_none(db, clock):
    token, _ = Sessions(db, clock).create(PrivateKey.generate(), LOOKUP, None, True)
    db.flush()
    clock.advance(IDLE_SECONDS + 1)
    state = SessionState(_request(db, clock, token))
    assert state.data is None and state.expired
    fresh = SessionState(_request(db, clock))
    assert fresh.data is None and not fresh.expired  # no cookie is no session, not an ended one


def test_save_writes_only_a_session_the_request_opened(db, clock):
    token, _ = Sessions(db, clock).create(PrivateKey.generate(), LOOKUP, None, True)
    db.flush()
    sealed = db.scalars(select(ReporterSession.sealed)).one()
    clock.advance(60)
    SessionState(_request(db, clock, token)).save()  # never looked at: nothing written
    db.flush()
    assert db.scalars(select(ReporterSession.sealed)).one() == sealed
    state = SessionState(_request(db, clock, token))
    assert state.data is not None
    state.save()
    db.flush()
    db.expire_all()
    assert db.scalars(select(ReporterSession.sealed)).one() != sealed  # last_seen moved on


def test_end_deletes_the_row(db, clock):
    token, _ = Sessions(db, clock).create(PrivateKey.generate(), LOOKUP, None, True)
    db.flush()
    state = SessionState(_request(db, clock, token))
    state.end()
    db.flush()
    assert state.data is None
    assert db.scalars(select(ReporterSession)).all() == []
