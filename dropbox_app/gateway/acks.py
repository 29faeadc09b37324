"""Acknowledgments per recipient group: a submission counts as acknowledged once every group
with an active card has acknowledged it.

A report about the inspectorate is sealed to the conflict group only (dropbox_app/routing.py).
If the workbench that opened a submission were the one to acknowledge it, a seized server would
see which submissions the conflict group acknowledged, and so which reports are about the
inspectorate. So every group's workbench acknowledges every submission of an inbox bundle it
imported and verified, its own and the ones sealed to the other group alike
(workbench/importer.py, ``OtherGroupAck``), and the server records one row per (submission,
group): the same rows for every submission.

Only when each group with an active card has acknowledged a submission does it get its
``acked_day``: it then leaves the inbox, and retention counts from that day. So the
inspectorate's acknowledgment (from its workbench, or a hand-made bundle) never deletes a report
about it that the conflict group has not fetched. A group whose last card is switched off no
longer holds anything back; what waited only for it is settled at the next reply upload or
retention run."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..models import AuditorCard, Submission, SubmissionAck

_CHUNK = 500  # SQLite's limit on bound parameters


def active_groups(db: Session) -> set[str]:
    return set(db.scalars(select(AuditorCard.recipient_group).distinct()
                          .where(AuditorCard.active.is_(True))))


def record(db: Session, ids: Sequence[str], group: str, day: str) -> int:
    """Record ``group``'s acknowledgment of the submissions ``ids`` (unknown or already
    acknowledged ones are ignored, as a resent bundle repeats them); returns how many were
    new. Then settle them."""
    new: list[str] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start:start + _CHUNK])
        known = set(db.scalars(select(Submission.id).where(Submission.id.in_(chunk))))
        done = set(db.scalars(select(SubmissionAck.submission_id).where(
            SubmissionAck.recipient_group == group, SubmissionAck.submission_id.in_(chunk))))
        new.extend(sid for sid in chunk if sid in known and sid not in done)
    if new:
        db.execute(insert(SubmissionAck), [{"submission_id": sid, "recipient_group": group}
                                           for sid in new])
    settle(db, day, ids)
    return len(new)


def settle(db: Session, day: str, ids: Sequence[str] | None = None) -> int:
    """Give ``acked_day`` to the submissions (of ``ids``, or all) that every group with an
    active card has acknowledged. Returns how many."""
    groups = active_groups(db)
    if not groups:
        return 0  # no one could acknowledge anything: nothing is settled
    chunks = ([None] if ids is None
              else [list(ids[i:i + _CHUNK]) for i in range(0, len(ids), _CHUNK)])
    settled = 0
    for chunk in chunks:
        complete = (select(SubmissionAck.submission_id)
                    .where(SubmissionAck.recipient_group.in_(sorted(groups)))
                    .group_by(SubmissionAck.submission_id)
                    .having(func.count(SubmissionAck.recipient_group) == len(groups)))
        query = update(Submission).where(Submission.acked_day.is_(None))
        if chunk is not None:  # only the chunk's rows are grouped, not the whole table
            complete = complete.where(SubmissionAck.submission_id.in_(chunk))
            query = query.where(Submission.id.in_(chunk))
        result = db.execute(query.where(Submission.id.in_(complete)).values(acked_day=day)
                            .execution_options(synchronize_session=False))
        settled += result.rowcount or 0
    return settled


def forget(db: Session, ids: Sequence[str]) -> None:
    """Delete the acknowledgments of submissions about to be deleted (retention)."""
    for start in range(0, len(ids), _CHUNK):
        db.execute(delete(SubmissionAck).where(
            SubmissionAck.submission_id.in_(list(ids[start:start + _CHUNK])))
            .execution_options(synchronize_session=False))
