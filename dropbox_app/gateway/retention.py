"""Deleting what the workbench has safely received.

A submission acknowledged by every recipient group (acks.py) is kept ``retention_days`` more (a
lost or damaged removable disk can still be re-fetched), then deleted for real:

* its row is deleted, and once that has committed the envelope's slot in the store is
  overwritten with zeros, fsynced and truncated to empty (dropbox_app/store.py: the slot's name
  stays, as a free slot, so the store directory does not date the deletion; on a journaling or
  flash file system old blocks may survive an overwrite; the envelope is ciphertext whose keys
  live only on the workbench, so this is a second line, not the only one). A crash between the
  commit and the wipe leaves a full slot no row names, which the store's sweep wipes.
  SQLite runs with ``secure_delete`` on (dropbox_app/db.py), so freed pages
  are zeroed, and the write-ahead log is checkpointed and truncated so no old page lingers in it;
  PostgreSQL keeps dead tuples until VACUUM, which ``compact`` runs on the tables touched.

The database rows held no content anyway: ids, a padded size, a hash and two days."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..models import Submission
from ..store import Store
from . import acks, adminlog

_MEMBER = re.compile(r"^[0-9a-f]{32}\.env$")


@dataclass(frozen=True)
class RetentionResult:
    deleted: int
    bytes: int


def cutoff(today: dt.date, retention_days: int) -> str:
    return (today - dt.timedelta(days=retention_days)).isoformat()


def wipe_file(path: Path) -> int:
    """Overwrite with zeros, fsync, truncate to empty (the slot stays, free). Returns the size
    wiped (0 if the file is gone or empty)."""
    if not _MEMBER.match(path.name):  # never a path built from anything else
        return 0
    return Store(path.parent).delete(path.name)


def run(db: Session, store_dir: Path, today: dt.date, retention_days: int, *,
        actor: str) -> RetentionResult:
    """Delete every submission acknowledged ``retention_days`` ago or earlier: the rows now,
    the envelopes (wiped in their slots) once this transaction commits. A run that deleted
    something says so in the admin log (counts only)."""
    limit = cutoff(today, retention_days)
    # What waited only for a group whose last card was switched off is acknowledged now.
    acks.settle(db, today.isoformat())
    due = list(db.execute(select(Submission.id, Submission.member, Submission.padded_size)
                          .where(Submission.acked_day.is_not(None),
                                 Submission.acked_day <= limit)))
    wiped = sum(size for _sid, _member, size in due)
    if due:
        Store(Path(store_dir)).delete_after_commit(
            db, [member for _sid, member, _size in due if _MEMBER.match(member)])
        acks.forget(db, [sid for sid, _m, _s in due])
        db.execute(delete(Submission).where(Submission.id.in_([sid for sid, _m, _s in due]))
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
