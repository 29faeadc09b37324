"""What a seized PostgreSQL data directory tells, measured with pg_waldump.

Three submissions are recorded a second and more apart on a real PostgreSQL server; then every
write-ahead-log segment in the data directory is decoded. This test records what remains, so
that a change (for the better or the worse) is noticed: PostgreSQL writes the commit time of
every transaction into its COMMIT record, to the microsecond, and no setting turns that off.
What the shipped settings limit is how long those records stay on disk (deploy/postgresql,
docs/deploy.md: segments removed, not recycled, after each checkpoint, checkpoints every few
minutes, no archive, no commit-timestamp tracking, no statement or connection logging); what
they cannot do is keep the current segment from dating the latest transactions. The rows
themselves carry days only (tests/security/test_seized_server.py)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures.gateway import add_submission
from tests.fixtures.postgres import _bin_dir

pytestmark = pytest.mark.postgres

_COMMIT = re.compile(r"desc: COMMIT (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (\w+)")


def _commit_times(pg_wal: Path) -> list[float]:
    waldump = _bin_dir() / "pg_waldump"
    times = []
    for seg in sorted(p for p in pg_wal.iterdir() if re.fullmatch(r"[0-9A-F]{24}", p.name)):
        # pg_waldump stops with an error at the end of the valid records: expected.
        out = subprocess.run([str(waldump), str(seg)], capture_output=True, text=True).stdout
        for stamp, zone in _COMMIT.findall(out):
            when = dt.datetime.fromisoformat(stamp)
            if zone == "UTC":
                when = when.replace(tzinfo=dt.UTC)
            times.append(when.timestamp())
    return times


def test_a_seized_data_directory_dates_recent_commits(pg_deployment, postgres_server):
    dep = pg_deployment
    windows = []
    for i in range(3):
        time.sleep(1.1)
        t0 = time.time()
        add_submission(dep, bytes([i]) * 1000)
        windows.append((t0, time.time()))
    time.sleep(0.5)  # the fixture commits asynchronously: let the WAL writer flush
    times = _commit_times(postgres_server.socket_dir.parent / "data" / "pg_wal")
    assert times, "pg_waldump decoded no COMMIT record: the measurement is broken"
    dated = [any(t0 - 0.01 <= t <= t1 + 0.01 for t in times) for t0, t1 in windows]
    # What remains: each submission's transaction is dated to the microsecond in the WAL.
    assert dated == [True, True, True]
