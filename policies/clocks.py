"""The four clocks a complaint runs against, defined once for every page that shows them.

Acknowledgment (3 working days), verification (3), completion (75) and the response to a
reported retaliation (2) are the inspectorate's published promises (``DeadlinePolicy`` holds
their lengths). The workbench's deadlines page, its list filters, its home page, the case page
and the statistics all name, order and judge the clocks through this module, so that one page
cannot call a deadline "due soon" while another counts it as nothing.

A clock's state on a day (``status``): ``met`` / ``late`` once done, ``not_applicable`` when the
case closed without it, else ``overdue`` after its due day, ``due_soon`` when it falls within
``DUE_SOON_DAYS`` working days, ``running`` otherwise."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peluit.ground.i18n import N_

from .calendar import WorkingCalendar

# "Due soon": due on one of the next two working days (or today). Short enough that the
# three-day clocks are not always due soon, long enough to act on before a weekend.
DUE_SOON_DAYS = 2


@dataclass(frozen=True)
class ClockDef:
    name: str        # the case's clock name (case page, filters, URLs)
    stat: str        # its name in the statistics export
    policy: str      # the DeadlinePolicy attribute holding its length in working days
    label: str       # English label (a gettext msgid)


CLOCKS: tuple[ClockDef, ...] = (
    ClockDef("acknowledge", "acknowledgment", "acknowledge_days", N_("Acknowledgment")),
    ClockDef("verify", "verification", "verify_days", N_("Verification")),
    ClockDef("complete", "completion", "complete_days", N_("Completion")),
    ClockDef("retaliation", "retaliation", "retaliation_days", N_("Response to retaliation")),
)
BY_NAME = {c.name: c for c in CLOCKS}
NAMES = tuple(c.name for c in CLOCKS)
STAT_NAMES = tuple(c.stat for c in CLOCKS)


def soon_limit(calendar: WorkingCalendar, today: dt.date) -> dt.date:
    """The last due day that still counts as due soon on ``today``."""
    return calendar.add_working_days(today, DUE_SOON_DAYS)


def status(due: dt.date, done: dt.date | None, closed: bool, today: dt.date,
           calendar: WorkingCalendar) -> tuple[str, int | None]:
    """A clock's state and, while it runs, working days left (negative when overdue)."""
    if done is not None:
        return ("met" if done <= due else "late"), None
    if closed:
        return "not_applicable", None
    left = calendar.working_days_between(today, due)
    if due < today:
        return "overdue", left
    if due <= soon_limit(calendar, today):
        return "due_soon", left
    return "running", left
