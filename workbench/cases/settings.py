"""The deployment's case settings, one service (``request.find_service(CaseSettings)``): the
working-day calendar, the deadline policy, the categories and the retention period, read once
at start from the workbench's policy file (``views.configure``). The clock and the search index
are services of their own (``Clock``, ``CaseSearch``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from policies.calendar import DeadlinePolicy, WorkingCalendar


@dataclass(frozen=True)
class CaseSettings:
    calendar: WorkingCalendar
    policy: DeadlinePolicy
    categories: Mapping[str, str]
    retention_years: int
