"""Deleting what the workbench has safely received.

A submission acknowledged by a reply bundle is kept ``retention_days`` more (a lost or damaged
removable disk can still be re-fetched), then deleted for real:

* the envelope file is overwritten with zeros, fsynced and unlinked (on a journaling or
  flash file system old blocks may survive an overwrite; the envelope is ciphertext whose keys
  live only on the workbench, so this is a second line, not the only one);
* its row is deleted. SQLite runs with ``secure_delete`` on (dropbox_app/db.py), so freed pages
  are zeroed, and the write-ahead log is checkpointed and truncated so no old page lingers in it;
  PostgreSQL keeps dead tuples until VACUUM, which ``compact`` runs on the tables touched.

The database rows held no content anyway: ids, a padded size, a hash and two days."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..models import Submission
from . import adminlog

WIPE_BLOCK = 1 << 20
_MEMBER = re.compile(r"^[0-9a-f]{32}\.env$")


@dataclass(frozen=True)
class RetentionResult:
    deleted: int
    bytes: int


def cutoff(today: dt.date, retention_days: int) -> str:
    return (today - dt.timedelta(days=retention_days)).isoformat()


def wipe_file(path: Path) -> int:
    """Overwrite, fsync, unlink. Returns the size wiped (0 if the file was already gone)."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        zeros = bytes(WIPE_BLOCK)
        left = size
        while left:
            n = os.write(fd, zeros[:min(left, WIPE_BLOCK)])
            left -= n
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)
    return size


def run(db: Session, store_dir: Path, today: dt.date, retention_days: int, *,
        actor: str) -> RetentionResult:
    """Delete every submission acknowledged ``retention_days`` ago or earlier. Files first,
    then rows: a crash in between leaves a row whose file is gone, which the next run removes.
    A run that deleted something says so in the admin log (counts only)."""
    limit = cutoff(today, retention_days)
    due = list(db.execute(select(Submission.id, Submission.member).where(
        Submission.acked_day.is_not(None), Submission.acked_day <= limit)))
    wiped = 0
    for _sid, member in due:
        if _MEMBER.match(member):  # never a path built from anything else
            wiped += wipe_file(Path(store_dir) / member)
    if due:
        db.execute(delete(Submission).where(Submission.id.in_([sid for sid, _ in due]))
                   .execution_options(synchronize_session=False))
        db.flush()
        adminlog.record(db, today.isoformat(), actor, "retention.run",
                        {"deleted": len(due), "bytes": wiped, "days": retention_days})
    return RetentionResult(len(due), wiped)


def compact(engine: Engine) -> None:
    """After the transaction that deleted rows has committed: push the freed pages out of the
    places where old copies linger."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM submissions"))
