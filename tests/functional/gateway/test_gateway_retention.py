"""Retention: acknowledged submissions are really deleted once the retention period has
passed (file overwritten and unlinked, row gone, and no copy left in the SQLite file or its
write-ahead log), unacknowledged and recently acknowledged ones are kept."""

import datetime as dt

from sqlalchemy import select

from dropbox_app.gateway import adminlog, retention
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.models import Submission
from tests.fixtures.gateway import add_submission, create_account, login, page_csrf, reply_bundle


def _ack(dep, *subs):
    with dep.db() as db, db.begin():
        for s in subs:
            db.get(Submission, s.submission_id).acked_day = dep.clock.day()


def _db_bytes(dep) -> bytes:
    from pathlib import Path

    path = Path(dep.cfg.database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_retention_deletes_files_and_rows_after_the_period(deployment):
    dep = deployment
    old, recent, waiting = (add_submission(dep, bytes([i]) * 5000) for i in range(3))
    _ack(dep, old)
    dep.clock.advance(10 * 86400)
    _ack(dep, recent)
    dep.clock.advance(21 * 86400)  # old: acknowledged 31 days ago; recent: 21 days ago
    with dep.db() as db:
        old_row = db.get(Submission, old.submission_id)
        member, sha = old_row.member, old_row.sha256
    assert sha.encode() in _db_bytes(dep)
    with dep.db() as db, db.begin():
        result = retention.run(db, dep.store_dir, dep.clock.today(), dep.cfg.retention_days,
                               actor=SHELL)
    retention.compact(dep.engine)
    assert result.deleted == 1 and result.bytes > 0
    # Wiped in its slot: the name stays (a free slot), the content is gone.
    assert (dep.store_dir / member).stat().st_size == 0
    with dep.db() as db:
        left = set(db.scalars(select(Submission.id)))
    assert left == {recent.submission_id, waiting.submission_id}
    # secure_delete zeroes the freed page; the checkpoint empties the write-ahead log.
    assert sha.encode() not in _db_bytes(dep)
    # The admin log says that, and how much, never which submission.
    with dep.db() as db:
        entry = adminlog.newest(db, 1)[0]
    assert (entry.actor, entry.action) == (SHELL, "retention.run")
    assert entry.details == {"deleted": 1, "bytes": result.bytes, "days": 30}
    assert old.submission_id not in str(entry.to_dict()) and member not in str(entry.to_dict())


def test_wipe_overwrites_before_truncating(tmp_path):
    path = tmp_path / ("a" * 32 + ".env")
    path.write_bytes(b"ciphertext" * 1000)
    with open(path, "rb") as held:  # a reader that still holds the file sees the zeros
        assert retention.wipe_file(path) == 10_000
        assert held.read(10_000) in (bytes(10_000), b"")
    assert path.stat().st_size == 0 and retention.wipe_file(path) == 0


def test_cutoff():
    assert retention.cutoff(dt.date(2027, 3, 1), 30) == "2027-01-30"


def test_reply_upload_runs_retention_opportunistically(deployment):
    dep = deployment
    login(dep, create_account(dep, "ani"))
    old = add_submission(dep)
    _ack(dep, old)
    dep.clock.advance(31 * 86400)
    dep.app.get("/")  # the session is long expired: sign in again
    login(dep, create_account(dep, "budi"))
    fresh = add_submission(dep)
    page = dep.app.post("/replies", {"csrf_token": page_csrf(dep)}, upload_files=[
        ("bundle", "r.bundle", reply_bundle(dep, acks=[fresh.submission_id]))])
    assert "deleted after the retention period: 1" in page.text
    with dep.db() as db:
        assert db.get(Submission, old.submission_id) is None
        assert db.get(Submission, fresh.submission_id).acked_day == dep.clock.day()
