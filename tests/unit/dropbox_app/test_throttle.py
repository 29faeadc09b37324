"""Limits on the costly and the guessable (dropbox_app/throttle.py), on a real SQLite database."""

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from dropbox_app.models import Throttle
from dropbox_app.throttle import (
    Busy,
    KdfGate,
    LoginThrottle,
    Throttled,
    row_key,
    spend_token,
    token_spent,
)
from peluit.ground.clock import FixedClock

KEY = bytes(range(32))
LOOKUP = b"\x01" * 32


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2026, 3, 16, 3, 20, tzinfo=dt.UTC))


def test_kdf_gate_says_busy_instead_of_queueing():
    gate = KdfGate(1, wait_seconds=0.05)
    inside, leave = threading.Event(), threading.Event()

    def hold():
        with gate.slot():
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert inside.wait(5)
        with pytest.raises(Busy), gate.slot():
            pass
    finally:
        leave.set()
        t.join()
    with gate.slot():  # free again
        pass


def test_row_keys_hide_the_hour_and_the_id():
    k = row_key(KEY, 1000, LOOKUP)
    assert LOOKUP.hex() not in k and "1000" not in k
    assert k != row_key(KEY, 1001, LOOKUP)            # another window
    assert k != row_key(KEY, 1000, b"\x02" * 32)      # another id
    assert k != row_key(bytes(32), 1000, LOOKUP)      # another server's secret
    assert k != row_key(KEY, 1000, None)              # the global counter


def test_ten_failures_throttle_that_id_for_the_hour_only(db, clock):
    throttle = LoginThrottle(db, clock, key=KEY)
    for _ in range(10):
        throttle.check(LOOKUP)
        throttle.failed(LOOKUP)
    with pytest.raises(Throttled):
        throttle.check(LOOKUP)
    throttle.check(b"\x02" * 32)   # another codename is not locked out
    throttle.check(None)           # no global lockout by default
    clock.advance(hours=1)
    throttle.check(LOOKUP)         # the next window starts afresh


def test_rows_carry_a_day_never_an_hour_and_are_purged_after_it(db, clock):
    throttle = LoginThrottle(db, clock, key=KEY)
    throttle.failed(LOOKUP)
    rows = db.scalars(select(Throttle)).all()
    assert [(r.count, r.purge_day) for r in rows] == [(1, "2026-03-17")]
    throttle.purge()
    assert db.scalars(select(Throttle)).all()  # not before its day is over
    clock.advance(days=2)
    throttle.purge()
    assert db.scalars(select(Throttle)).all() == []


def test_a_global_limit_when_a_deployment_sets_one(db, clock):
    throttle = LoginThrottle(db, clock, global_limit=3, key=KEY)
    for i in range(3):
        throttle.failed(bytes([i]) * 32)
    with pytest.raises(Throttled):
        throttle.check()


def test_a_form_token_is_spent_once(db, clock):
    assert spend_token(db, clock, "tok-1")
    assert token_spent(db, "tok-1")
    db.commit()
    assert not spend_token(db, clock, "tok-1")
    db.rollback()
    assert not token_spent(db, "tok-2")
