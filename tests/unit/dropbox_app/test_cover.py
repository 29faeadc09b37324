"""The cover writer's round (dropbox_app/cover.py), on a real deployment: abandoned sessions go
without anyone logging in, the pool of free slots is refilled, and every time of the store and
of the database files is covered (midnight for atime and mtime, one moment for every ctime)."""

from __future__ import annotations

import datetime as dt
import os

from sqlalchemy import select

from dropbox_app.cover import CoverWriter, sqlite_paths
from dropbox_app.models import ReporterSession, Throttle
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
