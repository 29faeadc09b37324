"""The statistics export: one record per case in the shape ``policies/statistics.py`` reads
(``peluit-stats-export`` v1). Codes and months only: no free text, no case number, no day, so
the file can go to a compliance officer and on to a published report without carrying a
reporter's words or a date that could be matched to a person.

Deadline states per record: ``met`` (done by the due day), ``missed`` (done late, or not done
and past due, or closed without it), ``open`` (not done, still in time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies.calendar import WorkingCalendar
from workbench import db, escrow

from . import retaliation as _retaliation
from .models import Case, RetaliationFlag
from .workflow import Permission, State, require

FORMAT = "peluit-stats-export"
VERSION = 1


def _deadline(done: dt.date | None, due: dt.date, closed: bool, today: dt.date) -> str:
    if done is not None:
        return "met" if done <= due else "missed"
    if closed or today > due:
        return "missed"
    return "open"


def records(session: Session, calendar: WorkingCalendar, today: dt.date,
            batch: int = 5000) -> Iterator[dict[str, Any]]:
    retaliation = set(session.scalars(
        select(db.Submission.report_id).where(db.Submission.kind == "retaliation").distinct()))
    # Identity in escrow: plain columns only (that a deposit exists, that one was opened).
    deposited = set(session.scalars(
        select(db.Submission.report_id).where(db.Submission.kind == "deposit").distinct()))
    opened = set(session.scalars(select(escrow.EscrowRequest.report_id).where(
        escrow.EscrowRequest.opened_day.is_not(None)).distinct()))
    flags: dict[int, list[RetaliationFlag]] = {}
    for flag in session.scalars(select(RetaliationFlag)):
        flags.setdefault(flag.case_id, []).append(flag)
    last = 0
    while True:
        rows = session.scalars(select(Case).where(Case.id > last).order_by(Case.id)
                               .limit(batch)).all()
        if not rows:
            return
        for c in rows:
            closed = c.state == State.CLOSED.value
            retaliated = c.report_id in retaliation
            deadlines = {
                "acknowledgment": _deadline(c.acknowledged_day, c.due_acknowledge, closed, today),
                "verification": _deadline(c.verified_day, c.due_verify, closed, today),
                "completion": _deadline(c.closed_day, c.due_complete, closed, today),
            }
            if c.id in flags:
                deadlines["retaliation"] = _retaliation.export_state(flags[c.id], today)
            yield {
                "category": c.category or "uncategorised",
                "channel": c.channel,
                "status": c.state,
                "outcome": c.outcome,
                "received": c.received_day.strftime("%Y-%m"),
                "closed": c.closed_day.strftime("%Y-%m") if c.closed_day else None,
                "deadlines": deadlines,
                "working_days_to_close": (calendar.working_days_between(
                    c.received_day, c.closed_day) if c.closed_day else None),
                "policy_improvement": bool(c.policy_improvement),
                "retaliation": retaliated or c.id in flags,
                "identity_deposited": c.report_id in deposited,
                "identity_opened": c.report_id in opened,
            }
        last = rows[-1].id


def export(session: Session, role: str, calendar: WorkingCalendar,
           today: dt.date) -> dict[str, Any]:
    """The whole export as one JSON-ready object (needs no vault key: plain columns only)."""
    require(role, Permission.STATISTICS)
    return {"format": FORMAT, "version": VERSION, "cases": list(records(session, calendar, today))}
