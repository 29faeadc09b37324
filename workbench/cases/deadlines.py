"""Deadline upkeep and the deployment's category table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from policies.calendar import CalendarError, DeadlinePolicy, WorkingCalendar

from .models import Case
from .workflow import DEFAULT_CATEGORIES, State

_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def recompute_deadlines(session: Session, calendar: WorkingCalendar,
                        policy: DeadlinePolicy) -> int:
    """Recompute the due dates of open cases (the decree or the policy changed); returns how
    many changed. Closed cases keep the deadlines they were judged against."""
    cols = (Case.due_acknowledge, Case.due_verify, Case.due_complete, Case.eu_acknowledge,
            Case.eu_feedback)
    rev = session.scalar(select(func.max(Case.rev))) or 0
    updates = []
    for cid, received, *old in session.execute(
            select(Case.id, Case.received_day, *cols).where(Case.state != State.CLOSED.value)):
        due = calendar.due_dates(received, policy)
        new = [due.acknowledge, due.verify, due.complete, due.eu_acknowledge, due.eu_feedback]
        if new != old:
            rev += 1  # the list catalog re-reads the row
            updates.append({"id": cid, "rev": rev, **{c.key: v for c, v in zip(cols, new,
                                                                                strict=True)}})
    if updates:
        session.execute(update(Case), updates)
    return len(updates)


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
