"""Retention and disposal of case files, as the protection policy promises (1.1 §8): a case file
is kept ``case_retention_years`` after the case is closed (the agency's archive retention
schedule for complaint files; default ``policies.clocks.CASE_RETENTION_YEARS``, a setting:
``[cases] retention_years`` in the workbench's policy file, checked against the signed policy by
control POL-2), then disposed of.

Disposal deletes the content and keeps the fact. Gone: everything the reporter sent (texts, the
imported files' envelopes overwritten with zeros, their safe copies), the replies and status
changes sent back, the review, reasons, notes, findings, duplicate sketches, links, loans,
forwards, retaliation flags, the vault's record of the report (its reporter key), and the case's
words in the in-memory search index. Kept: the case row's plain metadata (number, channel,
category, outcome, days: what the statistics already published), one ``disposed`` event, and the
audit log's ``case.dispose`` entry naming the case and who disposed of it. SQLite overwrites
deleted rows (``secure_delete``, workbench/db.py); the CLI checkpoints the write-ahead log
afterwards so no old page lingers there.

A case under a legal hold (a court, law enforcement or an open dispute needs it) is kept: the
lead leaves it unticked on the page, or names it with ``--keep`` on the command line."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from policies.clocks import CASE_RETENTION_YEARS
from workbench import audit, db, filestore

from . import revision, safecopies
from .models import (
    Case,
    CaseEvent,
    CaseLink,
    CaseSeen,
    CaseSketch,
    FileLoan,
    Forward,
    RetaliationFlag,
)
from .workflow import Permission, State, WorkflowError, require

DISPOSED = "disposed"  # the CaseEvent kind that marks a disposed case


class RetentionError(ValueError):
    """The retention setting is malformed."""


def load_years(policy_file: str | Path | None) -> int:
    """``[cases] retention_years`` of the workbench's policy file, or the default."""
    if not policy_file:
        return CASE_RETENTION_YEARS
    try:
        with open(policy_file, "rb") as f:
            table = tomllib.load(f).get("cases", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RetentionError(f"{policy_file}: {exc}") from None
    years = table.get("retention_years", CASE_RETENTION_YEARS) if isinstance(table, dict) \
        else CASE_RETENTION_YEARS
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 100:
        raise RetentionError(f"{policy_file}: cases.retention_years must be a whole number of "
                             "years from 1 to 100")
    return years


def disposal_day(closed: dt.date, years: int) -> dt.date:
    """The first day a case closed on ``closed`` may be disposed of (29 February: 1 March)."""
    try:
        return closed.replace(year=closed.year + years)
    except ValueError:
        return dt.date(closed.year + years, 3, 1)


@dataclass(frozen=True)
class Due:
    case: Case
    disposal_day: dt.date


def due(session: Session, today: dt.date, years: int) -> list[Due]:
    """Closed cases past their retention and not disposed of yet, oldest first."""
    disposed = select(CaseEvent.case_id).where(CaseEvent.kind == DISPOSED)
    latest = dt.date(today.year - years, today.month, min(today.day, 28)) \
        if (today.month, today.day) == (2, 29) else today.replace(year=today.year - years)
    rows = session.scalars(select(Case).where(
        Case.state == State.CLOSED.value, Case.closed_day.is_not(None),
        Case.closed_day <= latest, Case.id.not_in(disposed))
        .order_by(Case.closed_day, Case.id))
    return [Due(c, disposal_day(c.closed_day, years)) for c in rows
            if disposal_day(c.closed_day, years) <= today]


def is_disposed(session: Session, case_id: int) -> bool:
    return session.scalar(select(CaseEvent.id).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == DISPOSED).limit(1)) is not None


def dispose(session: Session, user: Any, case: Case, vault_path: Path | str, today: dt.date,
            years: int, at: str, search: Any = None) -> None:
    """Dispose of one case past its retention (needs the vault key: ``db.unlocked``). A lead
    only; the case must be closed and past its retention day."""
    require(user.role, Permission.DECIDE)
    if case.state != State.CLOSED.value or case.closed_day is None:
        raise WorkflowError("bad_state", "only a closed case is disposed of")
    if disposal_day(case.closed_day, years) > today:
        raise WorkflowError("retention", "the case is still within its retention period")
    if is_disposed(session, case.id):
        return
    cid = case.id
    # The marker first: its id is above every event's, so a serving process's search index
    # (which reads events above the last id it saw) learns of the disposal; SQLite would give a
    # marker written after the deletions the id of a deleted event.
    marker = CaseEvent(case_id=cid, kind=DISPOSED, actor=user.id,
                       at=dt.datetime.fromisoformat(at.replace("Z", "")),
                       body={"case": cid, "text": ""})
    session.add(marker)
    session.flush()
    if case.report_id is not None:
        rid = case.report_id
        subs = list(session.scalars(select(db.Submission).where(db.Submission.report_id == rid)))
        for sub in subs:
            if sub.file_path:
                filestore.erase(vault_path, sub)
            safecopies.erase(vault_path, sub.id)
        session.execute(delete(RetaliationFlag).where(RetaliationFlag.case_id == cid))
        session.execute(delete(db.Submission).where(db.Submission.report_id == rid))
        session.execute(delete(db.Reply).where(db.Reply.report_id == rid))
        session.execute(delete(db.StatusChange).where(db.StatusChange.report_id == rid))
        case.report_id = None
        session.flush()
        session.execute(delete(db.Report).where(db.Report.id == rid))
    session.execute(delete(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.id != marker.id))
    for model in (CaseSketch, FileLoan, Forward, CaseSeen, RetaliationFlag):
        session.execute(delete(model).where(model.case_id == cid))
    session.execute(delete(CaseLink).where(or_(CaseLink.case_id == cid,
                                               CaseLink.other_id == cid)))
    case.content = {"case": cid}
    case.review = None
    case.decision_reason = None
    case.outcome_note = None
    revision.bump(case)
    audit.record(session, user.id, "case.dispose", case.number, {
        "closed_day": case.closed_day.isoformat(), "outcome": case.outcome or "",
        "retention_years": years}, at=at)
    session.flush()
    if search is not None:
        search.forget(cid)
