"""The service targets: each step a complaint is measured against, defined once, with the event
that ends it and where its figure comes from.

Four are clocks a case runs against: acknowledgment (3 working days), the initial review and the
lead's decision (3), completion (75) and the first response to a reported retaliation (2). A fifth,
carrying (1), is the schedule on which inbox bundles are carried from the server to the
workbench: the case clocks start when the *server* receives a report, so a report that waits on
the server eats into them. These are published service targets, not statutory limits; each
figure's source is written next to it (``SOURCES``) and is a setting: the signed protection
policy's ``[deadlines]`` (``policies.documents``) and the workbench's ``[calendar]``
(``policies.calendar.DeadlinePolicy``, whose defaults are taken from here) give the deployment's
own figures, and control POL-2 checks that the two agree.

Every page names, orders and judges the targets through this module: the policy text (by
placeholders the signed header fills in), the reporter pages, the workbench's deadlines page,
list filters, home page and case page, and the statistics; so one page cannot call a deadline
"due soon" while another counts it as nothing, or promise a reporter a step that the workbench
measures differently (tests/unit/policies/test_service_targets.py).

A clock's state on a day (``status``): ``met`` / ``late`` once done, ``not_applicable`` when the
case closed without it, else ``overdue`` after its due day, ``due_soon`` when it falls within
``DUE_SOON_DAYS`` working days, ``running`` otherwise."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from peluit.ground.i18n import N_

if TYPE_CHECKING:  # calendar.py takes its defaults from here
    from .calendar import WorkingCalendar

# "Due soon": due on one of the next two working days (or today). Short enough that the
# three-day clocks are not always due soon, long enough to act on before a weekend.
DUE_SOON_DAYS = 2


@dataclass(frozen=True)
class ClockDef:
    name: str        # the case's clock name (case page, filters, URLs)
    stat: str        # its name in the statistics export and the signed policy's [deadlines]
    policy: str      # the DeadlinePolicy attribute holding its length in working days
    label: str       # English label (a gettext msgid)
    days: int        # the default service target, in working days
    done_when: str   # the one event that meets it (a msgid; the workbench records exactly this)
    source: str      # where the figure comes from (a msgid)


OWN_TARGET = N_("this inspectorate's own service target")

CLOCKS: tuple[ClockDef, ...] = (
    ClockDef("acknowledge", "acknowledgment", "acknowledge_days", N_("Acknowledgment"), 3,
             N_("the standard acknowledgment message is sent to the reporter"),
             N_("this inspectorate's own service target (SP4N-LAPOR! routes a report within "
                "3 working days)")),
    ClockDef("verify", "verification", "verify_days", N_("Initial review and decision"), 3,
             N_("the report is reviewed and the lead has decided the next step"), OWN_TARGET),
    ClockDef("complete", "completion", "complete_days", N_("Completion"), 75,
             N_("the case is closed"),
             N_("Itjen Kemenkes: finished within 75 working days of receipt")),
    ClockDef("retaliation", "retaliation", "retaliation_days", N_("Response to retaliation"), 2,
             N_("the lead answers the reporter through the follow-up page and records it "
                "handled"), OWN_TARGET),
)
BY_NAME = {c.name: c for c in CLOCKS}
NAMES = tuple(c.name for c in CLOCKS)
STAT_NAMES = tuple(c.stat for c in CLOCKS)

# Not a case clock: how often an inbox bundle must be carried from the server to the workbench.
CARRYING = ClockDef("carrying", "carrying", "carry_days", N_("Carrying bundles"), 1,
                    N_("an inbox bundle is imported on the workbench"), OWN_TARGET)
SERVICE_TARGETS: tuple[ClockDef, ...] = (*CLOCKS, CARRYING)
# How long the workbench keeps a case file after the case is closed (policy 1.1 header
# ``case_retention_years``: the agency's archive retention schedule for complaint files); then it
# is disposed of (workbench/cases/retention.py). A setting, like the targets.
CASE_RETENTION_YEARS = 5
# The default length of each target by its DeadlinePolicy attribute (calendar.py reads these).
DEFAULT_DAYS = {t.policy: t.days for t in SERVICE_TARGETS}


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
