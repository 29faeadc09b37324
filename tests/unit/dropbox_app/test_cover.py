"""The cover writer's round (dropbox_app/cover.py), on a real deployment: abandoned sessions go
without anyone logging in, the pool of free slots is refilled, and every time of the store and
of the database files is covered (midnight for atime and mtime, one moment for every ctime)."""

from __future__ import annotations

import datetime as dt
import os

from sqlalchemy import select

from dropbox_app.cover import CoverWriter, sqlite_paths
from dropbox_app.gateway import totp
from dropbox_app.gateway.policy import DEFAULT_SESSION_POLICY
from dropbox_app.models import GatewaySession, GatewayUser, ReporterSession, Throttle
from dropbox_app.store import POOL_LOW, Store


def test_a_cover_round_purges_refills_and_covers(deployment):
    dep = deployment
    yesterday = (dep.clock.today() - dt.timedelta(days=1)).isoformat()
    with dep.db() as db, db.begin():
        db.add(ReporterSession(id="a" * 64, sealed=b"x", purge_day=yesterday))  # abandoned
        db.add(ReporterSession(id="b" * 64, sealed=b"y", purge_day="2999-01-01"))
        db.add(Throttle(key="c" * 48, count=3, purge_day=yesterday))
    store = Store(dep.store_dir)
    # The pool runs low: slots filled and let go with no row naming them (a crash's orphans).
    pending = [store.begin() for _ in range(store.free_slots() - POOL_LOW + 1)]
    for p in pending:
        p.sink.write(b"w")
        p.commit()
        p.release()

    CoverWriter(dep.engine, store, dep.clock).once()

    with dep.db() as db:
        assert list(db.scalars(select(ReporterSession.id))) == ["b" * 64]
        assert list(db.scalars(select(Throttle.key))) == []
    assert list(store.members()) == []  # the orphans were wiped
    assert store.free_slots() >= POOL_LOW
    today = dt.datetime.now(dt.UTC).date()
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC).timestamp()
    paths = [dep.store_dir, *(dep.store_dir / n for n in os.listdir(dep.store_dir))]
    paths += [p for p in sqlite_paths(dep.engine) if p.exists()]
    ctimes = []
    for p in paths:
        st = os.stat(p)
        assert st.st_mtime == midnight, p
        ctimes.append(st.st_ctime)
    assert max(ctimes) - min(ctimes) < 2.0  # one round: one moment, give or take its length


def test_a_cover_round_purges_expired_gateway_sessions(deployment):
    """An expired auditor session holds the second of its last request (a reply upload, say):
    the next round removes it, with nobody logging in; a live one stays. The same for the TOTP
    step of a sign-in whose code can no longer be accepted."""
    dep = deployment
    now = int(dep.clock.timestamp())
    idle = DEFAULT_SESSION_POLICY.idle_seconds
    with dep.db() as db, db.begin():
        step = now // totp.STEP
        db.add(GatewayUser(id="u" * 32, username="auditor", role="auditor", active=True,
                           passphrase_hash="x", totp_secret="s", created_day="2026-12-01",
                           totp_last_step=step - 10))
        db.add(GatewayUser(id="v" * 32, username="admin", role="admin", active=True,
                           passphrase_hash="x", totp_secret="s", created_day="2026-12-01",
                           totp_last_step=step))
        db.flush()
        db.add(GatewaySession(id="e" * 64, user_id="u" * 32, created_at=now - idle - 60,
                              last_seen_at=now - idle - 1, reauth_at=now - idle - 60))
        db.add(GatewaySession(id="l" * 64, user_id="u" * 32, created_at=now - 60,
                              last_seen_at=now - 5, reauth_at=now - 60))

    CoverWriter(dep.engine, Store(dep.store_dir), dep.clock).once()

    with dep.db() as db:
        assert list(db.scalars(select(GatewaySession.id))) == ["l" * 64]
        # The step of a sign-in long past is forgotten; one whose code is still valid is kept,
        # so that code still cannot be used twice.
        steps = dict(db.execute(select(GatewayUser.username, GatewayUser.totp_last_step)).all())
        assert steps == {"auditor": None, "admin": step}
