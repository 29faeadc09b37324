"""Bundle sequence numbers, kept in the database (``bundle_sequences``).

``inbox``: the last number this server signed with a given key; each download takes the next.
``reply``: the last number accepted from a given auditor key; anything not newer is a replay
or arrives out of order, and is refused before any of its members is read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models.gateway import BundleSequence

INBOX = "inbox"
REPLY = "reply"


def _row(db: Session, key_id: str, direction: str, lock: bool = False) -> BundleSequence | None:
    stmt = select(BundleSequence).where(BundleSequence.key_id == key_id,
                                        BundleSequence.direction == direction)
    if lock:
        stmt = stmt.with_for_update()  # PostgreSQL: two downloads never get the same number
    return db.scalar(stmt)


def last(db: Session, key_id: str, direction: str) -> int | None:
    row = _row(db, key_id, direction)
    return None if row is None else row.last_seq


def take_next(db: Session, key_id: str) -> int:
    """Reserve the next inbox sequence number of ``key_id``. A number is never reused, even if
    its download is aborted: the workbench only asks that each bundle be newer."""
    row = _row(db, key_id, INBOX, lock=True)
    if row is None:
        row = BundleSequence(key_id=key_id, direction=INBOX, last_seq=0)
        db.add(row)
    row.last_seq += 1
    db.flush()
    return row.last_seq


def record_accepted(db: Session, key_id: str, seq: int) -> None:
    """Claim ``seq`` for ``key_id`` before anything of the bundle is stored. One conditional
    statement (or the primary key, for a key's first bundle) decides: of two uploads of the same
    bundle racing, the second waits for the first's transaction and is then refused as a
    replay, so it never writes over the first one's files."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from crypto.errors import ReplayError

    result = db.execute(update(BundleSequence).where(
        BundleSequence.key_id == key_id, BundleSequence.direction == REPLY,
        BundleSequence.last_seq < seq).values(last_seq=seq)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        return
    if _row(db, key_id, REPLY) is not None:
        raise ReplayError(f"bundle {seq} is not newer than the last one accepted")
    try:
        with db.begin_nested():
            db.add(BundleSequence(key_id=key_id, direction=REPLY, last_seq=seq))
    except IntegrityError:  # another upload of a first bundle from this key got there first
        raise ReplayError(f"bundle {seq} was accepted by a concurrent upload") from None
