"""The home page as an inbox: what needs someone today.

New reports (cases still in intake), what reporters sent that nobody has read yet (the case page
not opened since) and, as an alert of its own, new evidence on a *closed* case (someone must
decide whether to reopen it: an archived report is examined again when evidence comes), deadlines
of every clock (policies.clocks) overdue or due within a working day, whether an inbox bundle or
a reply bundle is overdue by the carrying schedule, open retaliation flags, and the open cases
per state. Counts and case numbers only: the compliance officer sees the same page without
content (no summaries are loaded here at all)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policies import clocks
from policies.calendar import WorkingCalendar
from workbench import db

from . import deadlines
from .models import Case, CaseSeen, RetaliationFlag
from .workflow import State

# The home page's horizon: due today or on the next working day.
TODAY_DAYS = 1
LISTED = 10  # cases named per panel; the rest is one click away


@dataclass
class Inbox:
    new: list[Case] = field(default_factory=list)
    new_total: int = 0
    unread: list[tuple[Case, int]] = field(default_factory=list)  # (case, messages not read)
    unread_total: int = 0
    closed_new: list[tuple[Case, int]] = field(default_factory=list)  # unread, on closed cases
    carried_day: dt.date | None = None   # the last inbox bundle imported
    carry_due: dt.date | None = None     # the next one is due by this day
    carry_overdue: bool = False
    exported_day: dt.date | None = None  # the last reply bundle exported
    export_due: dt.date | None = None
    export_overdue: bool = False
    due: dict[str, dict[str, int]] = field(default_factory=dict)  # clock -> state -> count
    due_cases: list[Case] = field(default_factory=list)
    due_total: int = 0
    retaliation_open: int = 0
    retaliation_overdue: int = 0
    per_state: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.new_total or self.unread_total or self.due_total
                    or self.retaliation_open or self.carry_overdue or self.export_overdue)


def reporter_seq(session: Session, report_id: str) -> int:
    """The newest import seq of what the reporter sent after the report itself."""
    return session.scalar(select(func.max(db.Submission.seq)).where(
        db.Submission.report_id == report_id, db.Submission.kind != "report")) or 0


def mark_seen(session: Session, case: Case) -> None:
    """A key holder opened the case page: everything the reporter sent so far is read."""
    if case.report_id is None:
        return
    seq = reporter_seq(session, case.report_id)
    row = session.get(CaseSeen, case.id)
    if row is None:
        session.add(CaseSeen(case_id=case.id, seq=seq))
    elif row.seq < seq:
        row.seq = seq


def carrying(session: Session, calendar: WorkingCalendar, today: dt.date,
             carry_days: int) -> tuple[dt.date | None, dt.date | None, bool]:
    """(last import day, the day the next bundle is due, overdue?) by the carrying schedule: a
    bundle every ``carry_days`` working days. The case clocks start on the server's day of
    receipt, so a report left waiting on the server eats into them."""
    return _schedule(session, db.CARRIED_SETTING, calendar, today, carry_days)


def _schedule(session: Session, setting: str, calendar: WorkingCalendar, today: dt.date,
              carry_days: int) -> tuple[dt.date | None, dt.date | None, bool]:
    row = session.get(db.Setting, setting)
    try:
        last = dt.date.fromisoformat(row.value) if row is not None else None
    except ValueError:
        last = None
    if last is None:
        return None, None, False
    due = calendar.add_working_days(last, carry_days)
    return last, due, due < today


def exporting(session: Session, calendar: WorkingCalendar, today: dt.date,
              carry_days: int) -> tuple[dt.date | None, dt.date | None, bool]:
    """(last export day, the day the next reply bundle is due, overdue?): the same schedule
    the other way. Each group's bundle covers every report (crypto/replyentry.py); carried
    every working day, with or without anything new, its days tell the server nothing."""
    return _schedule(session, db.EXPORTED_SETTING, calendar, today, carry_days)


def build(session: Session, calendar: WorkingCalendar, today: dt.date,
          carry_days: int = clocks.CARRYING.days) -> Inbox:
    box = Inbox()
    box.carried_day, box.carry_due, box.carry_overdue = carrying(session, calendar, today,
                                                                 carry_days)
    box.exported_day, box.export_due, box.export_overdue = exporting(session, calendar, today,
                                                                     carry_days)
    open_ = Case.state != State.CLOSED.value
    intake = select(Case).where(Case.state == State.INTAKE.value)
    box.new_total = session.scalar(select(func.count()).select_from(intake.subquery())) or 0
    box.new = list(session.scalars(intake.order_by(Case.received_day, Case.id).limit(LISTED)))

    seen = func.coalesce(CaseSeen.seq, 0)
    unread = (select(Case, func.count(db.Submission.seq))
              .join(db.Submission, db.Submission.report_id == Case.report_id)
              .outerjoin(CaseSeen, CaseSeen.case_id == Case.id)
              .where(db.Submission.kind != "report", db.Submission.seq > seen)
              .group_by(Case.id).order_by(func.min(db.Submission.seq)))
    rows = session.execute(unread).all()
    box.unread_total = len(rows)
    box.unread = [(c, n) for c, n in rows[:LISTED]]
    box.closed_new = [(c, n) for c, n in rows if c.state == State.CLOSED.value][:LISTED]

    due_ids: set[int] = set()
    for name in clocks.NAMES:
        box.due[name] = {}
        for state in ("overdue", "due_soon"):
            ids = deadlines.deadline_ids(session, calendar, today, state, name,
                                         soon_days=TODAY_DAYS)
            box.due[name][state] = len(ids)
            due_ids |= ids
    box.due_total = len(due_ids)
    if due_ids:
        box.due_cases = list(session.scalars(
            select(Case).where(Case.id.in_(due_ids)).order_by(Case.received_day, Case.id)
            .limit(LISTED)))

    pending = RetaliationFlag.handled_day.is_(None)
    box.retaliation_open = session.scalar(
        select(func.count(RetaliationFlag.id)).where(pending)) or 0
    box.retaliation_overdue = session.scalar(
        select(func.count(RetaliationFlag.id)).where(pending,
                                                     RetaliationFlag.due_day < today)) or 0

    box.per_state = {s.value: 0 for s in State if s is not State.CLOSED}
    for state, n in session.execute(select(Case.state, func.count(Case.id)).where(open_)
                                    .group_by(Case.state)):
        box.per_state[state] = n
    return box


def as_context(box: Inbox) -> dict[str, Any]:
    return {"inbox": box, "clock_defs": clocks.CLOCKS}
