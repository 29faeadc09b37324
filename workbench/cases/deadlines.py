"""Deadline upkeep, the cases each clock finds overdue or due soon, and the deployment's
category table."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from policies import clocks
from policies.calendar import CalendarError, DeadlinePolicy, WorkingCalendar

from . import revision
from .models import Case, RetaliationFlag
from .workflow import DEFAULT_CATEGORIES, State

_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def recompute_deadlines(session: Session, calendar: WorkingCalendar,
                        policy: DeadlinePolicy) -> int:
    """Recompute the due dates of open cases (the decree or the policy changed); returns how
    many changed. Closed cases keep the deadlines they were judged against."""
    cols = (Case.due_acknowledge, Case.due_verify, Case.due_complete, Case.eu_acknowledge,
            Case.eu_feedback)
    updates = []
    for cid, received, *old in session.execute(
            select(Case.id, Case.received_day, *cols).where(Case.state != State.CLOSED.value)):
        due = calendar.due_dates(received, policy)
        new = [due.acknowledge, due.verify, due.complete, due.eu_acknowledge, due.eu_feedback]
        if new != old:
            updates.append({"b_id": cid, **{f"b_{c.key}": v for c, v in zip(cols, new,
                                                                               strict=True)}})
    if updates:
        # A new revision per row (the list catalog re-reads it), numbered by the UPDATE itself
        # (cases/revision.py: a number read before the write races another session).
        table = Case.__table__
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            rev=revision.next_rev(), **{c.key: bindparam(f"b_{c.key}") for c in cols}),
            updates)
    return len(updates)


# Each case clock: its due-day column and the column that stops it.
_CASE_CLOCKS = {"acknowledge": (Case.due_acknowledge, Case.acknowledged_day),
                "verify": (Case.due_verify, Case.verified_day),
                "complete": (Case.due_complete, Case.closed_day)}


def _window(column, deadline: str, today: dt.date, calendar: WorkingCalendar,
            soon_days: int = clocks.DUE_SOON_DAYS):
    if deadline == "overdue":
        return column < today
    return and_(column >= today, column <= calendar.add_working_days(today, soon_days))


def _clock_query(name: str, deadline: str, today: dt.date, calendar: WorkingCalendar,
                 soon_days: int = clocks.DUE_SOON_DAYS):
    """Ids of the cases whose clock ``name`` is not stopped and is ``deadline`` (overdue or
    due_soon) on ``today``, by the rule of policies.clocks.status."""
    if name == "retaliation":
        # Runs whatever the case's state (see service.clock_of).
        return select(RetaliationFlag.case_id).where(
            RetaliationFlag.handled_day.is_(None),
            _window(RetaliationFlag.due_day, deadline, today, calendar, soon_days))
    due, done = _CASE_CLOCKS[name]
    return select(Case.id).where(Case.state != State.CLOSED.value, done.is_(None),
                                 _window(due, deadline, today, calendar, soon_days))


def deadline_ids(session: Session, calendar: WorkingCalendar, today: dt.date, deadline: str,
                 clock: str = "", soon_days: int = clocks.DUE_SOON_DAYS) -> set[int]:
    """Cases with any clock (or only ``clock``) ``deadline`` on ``today`` (due soon: within
    ``soon_days`` working days; the home page looks one working day ahead)."""
    names = [clock] if clock in clocks.BY_NAME else list(clocks.NAMES)
    ids: set[int] = set()
    for name in names:
        ids.update(session.scalars(_clock_query(name, deadline, today, calendar, soon_days)))
    return ids


def deadline_counts(session: Session, calendar: WorkingCalendar,
                    today: dt.date) -> dict[str, dict[str, int]]:
    """``{clock: {"overdue": n, "due_soon": n}}`` for every clock, and ``"any"`` (cases with
    at least one clock in that state)."""
    out: dict[str, dict[str, int]] = {"any": {}}
    for deadline in ("overdue", "due_soon"):
        every: set[int] = set()
        for name in clocks.NAMES:
            ids = set(session.scalars(_clock_query(name, deadline, today, calendar)))
            out.setdefault(name, {})[deadline] = len(ids)
            every |= ids
        out["any"][deadline] = len(every)
    return out


def load_categories(path: str | Path) -> dict[str, str]:
    """``[cases] categories`` of the policy file (token = label), or the defaults."""
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f).get("cases", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CalendarError(f"{path}: {exc}") from None
    cats = table.get("categories") if isinstance(table, dict) else None
    if cats is None:
        return dict(DEFAULT_CATEGORIES)
    if not isinstance(cats, dict) or not cats:
        raise CalendarError(f"{path}: cases.categories must be a table of token = label")
    for k, v in cats.items():
        if not _TOKEN.match(k) or not isinstance(v, str) or not v.strip() or len(v) > 100:
            raise CalendarError(f"{path}: cases.categories: {k!r} must be a short lowercase "
                                "token with a label")
    return dict(cats)


def clock_of(case: Case, calendar: WorkingCalendar, today: dt.date,
             flags: Any = ()) -> dict[str, Any]:
    """Where a case stands against its clocks (policies.clocks): for each, the due day, its
    status and working days left (negative when overdue); ``next`` names the most urgent clock
    still running. The retaliation clock is there only when the case has a flag (the first one
    not handled yet, else the last handled)."""
    closed = case.state == State.CLOSED.value
    out: dict[str, Any] = {"elapsed": calendar.working_days_between(
        case.received_day, case.closed_day or today)}
    pending = sorted(flags, key=lambda f: (f.handled_day is not None, f.due_day))
    runs = [("acknowledge", case.due_acknowledge, case.acknowledged_day),
            ("verify", case.due_verify, case.verified_day),
            ("complete", case.due_complete, case.closed_day)]
    if pending:
        flag = pending[0]
        # A flag is the compliance officer's to handle: it runs on after the case closes.
        runs.append(("retaliation", flag.due_day, flag.handled_day))
    running = []
    for name, due, done in runs:
        state, left = clocks.status(due, done, closed and name != "retaliation", today,
                                     calendar)
        out[name] = {"due": due, "status": state, "left": left}
        if left is not None:
            running.append((due, name))
    out["next"] = min(running)[1] if running else "complete"
    out["eu_acknowledge"] = {"due": case.eu_acknowledge}
    out["eu_feedback"] = {"due": case.eu_feedback}
    return out
