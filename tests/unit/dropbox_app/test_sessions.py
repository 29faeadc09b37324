"""Reporter sessions (dropbox_app/sessions.py) on a real SQLite database: what a copy of the
table shows, and when a session ends."""

import datetime as dt
import secrets

import pytest
from nacl.public import PrivateKey
from sqlalchemy import select

from dropbox_app.models import ReporterSession
from dropbox_app.sessions import (
    ABSOLUTE_SECONDS,
    IDLE_SECONDS,
    SessionExpired,
    Sessions,
)
from peluit.ground.clock import FixedClock

LOOKUP = secrets.token_bytes(32)


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2026, 3, 16, 13, 37, 11, tzinfo=dt.UTC))


def test_a_copy_of_the_table_shows_no_key_no_lookup_id_no_token_and_no_hour(db, clock):
    key = PrivateKey.generate()
    token, _ = Sessions(db, clock).create(key, LOOKUP, "r" * 32, True)
    db.flush()
    row = db.scalars(select(ReporterSession)).one()
    blob = row.id.encode() + row.sealed + row.purge_day.encode()
    for secret in (bytes(key), LOOKUP, LOOKUP.hex().encode(), token.encode()):
        assert secret not in blob
    assert row.purge_day == "2026-03-17"  # a day, after the absolute end; never the hour
    # The sealed row opens only with the token: another token names no session.
    with pytest.raises(SessionExpired):
        Sessions(db, clock).open(secrets.token_urlsafe(32))
    data = Sessions(db, clock).open(token)
    assert bytes(data.key) == bytes(key) and data.lookup_id == LOOKUP


def test_a_row_sealed_for_another_token_does_not_open(db, clock):
    sessions = Sessions(db, clock)
    a, _ = sessions.create(PrivateKey.generate(), LOOKUP, None, False)
    b, _ = sessions.create(PrivateKey.generate(), LOOKUP, None, False)
    db.flush()
    rows = {r.id: r for r in db.scalars(select(ReporterSession))}
    ra, rb = sorted(rows.values(), key=lambda r: r.id)
    ra.sealed, rb.sealed = rb.sealed, ra.sealed  # someone with write access swaps them
    db.flush()
    for token in (a, b):
        with pytest.raises(SessionExpired):
            sessions.open(token)


def test_idle_and_absolute_ends(db, clock):
    sessions = Sessions(db, clock)
    token, _ = sessions.create(PrivateKey.generate(), LOOKUP, None, True)
    db.flush()
    clock.advance(IDLE_SECONDS - 5)
    sessions.save(token, sessions.open(token))  # activity keeps it alive
    clock.advance(IDLE_SECONDS - 5)
    sessions.save(token, sessions.open(token))
    clock.advance(ABSOLUTE_SECONDS)  # past two hours, however active
    with pytest.raises(SessionExpired):
        sessions.open(token)


def test_idle_session_expires(db, clock):
    sessions = Sessions(db, clock)
    token, _ = sessions.create(PrivateKey.generate(), LOOKUP, None, True)
    db.flush()
    clock.advance(IDLE_SECONDS + 1)
    with pytest.raises(SessionExpired):
        sessions.open(token)


def test_no_cookie_is_no_session_and_logout_deletes_the_row(db, clock):
    sessions = Sessions(db, clock)
    assert sessions.open(None) is None and sessions.open("") is None
    assert sessions.open("x" * 65) is None  # an oversized cookie is not even looked up
    token, _ = sessions.create(PrivateKey.generate(), LOOKUP, None, True)
    db.flush()
    sessions.end(token)
    assert db.scalars(select(ReporterSession)).all() == []


def test_purge_removes_rows_whose_day_has_begun(db, clock):
    sessions = Sessions(db, clock)
    sessions.create(PrivateKey.generate(), LOOKUP, None, True)
    db.flush()
    assert sessions.purge() == 0
    clock.advance(days=1)
    assert sessions.purge() == 1
