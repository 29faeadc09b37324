"""Lists of cases (filters, search, pages) and where cases stand against their clocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import undefer

from . import access as _access
from . import deadlines as _deadlines
from .content import summary
from .deadlines import clock_of
from .models import Case, RetaliationFlag
from .people import User
from .servicecore import ServiceCore
from .workflow import Permission, allowed, require

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200



@dataclass
class Filters:
    q: str = ""
    state: str = ""
    category: str = ""
    channel: str = ""
    deadline: str = ""          # "" | overdue | due_soon (any clock, or only ``clock``)
    clock: str = ""             # "" | a name of policies.clocks.CLOCKS
    page: int = 1
    per_page: int = PAGE_SIZE



@dataclass
class Page:
    items: list[Case]
    total: int
    page: int
    per_page: int
    summaries: dict[int, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class ListingSteps(ServiceCore):
    """Listing cases."""

    def list_cases(self, user: User, f: Filters) -> Page:
        """One page of cases, newest received first. Text search needs READ (it reveals
        content) and the vault key (the index is built from decrypted text)."""
        require(user.role, Permission.LIST)
        per_page = max(1, min(f.per_page, MAX_PAGE_SIZE))
        page = max(1, f.page)
        reader = allowed(user.role, Permission.READ) and self.dupe_key is not None
        matches = None
        if f.q.strip():
            require(user.role, Permission.READ)
            self._dupe_key()
            self.search.refresh(self.db, text=True)
            matches = self.search.index.search(f.q)
        else:
            self.search.refresh(self.db, text=False)
        today = self.clock.today()
        if f.deadline in ("overdue", "due_soon"):
            # Every clock (or the one asked for) in the database; the catalog knows only the
            # completion due day, and a 3-day clock is what needs acting on first.
            due = _deadlines.deadline_ids(self.db, self.calendar, today, f.deadline, f.clock)
            matches = due if matches is None else matches & due
        # Cases the member is excluded from (recused, or assigned to others) are not listed,
        # found by search or counted (workbench/cases/access.py).
        ids, total = self.search.catalog.select(
            state=f.state, category=f.category, channel=f.channel, matches=matches,
            offset=(page - 1) * per_page, limit=per_page,
            exclude=_access.excluded(self.db, user.id, user.role))
        # Readers see a summary per row: load the encrypted content with the page, not one
        # query per row; others never load it (and hold no key to decrypt it).
        opts = [undefer(Case.content)] if reader else []
        rows = {c.id: c for c in self.db.scalars(select(Case).options(*opts)
                                                 .where(Case.id.in_(ids)))} if ids else {}
        items = [rows[i] for i in ids if i in rows]
        result = Page(items, total, page, per_page)
        if reader:
            for c in items:
                result.summaries[c.id] = summary(self._content(c))
        return result

    def case_clock(self, case: Case) -> dict[str, Any]:
        return self.case_clocks([case])[case.id]

    def case_clocks(self, cases: list[Case]) -> dict[int, dict[str, Any]]:
        """Every clock of each case (one query for their retaliation flags)."""
        flags: dict[int, list[RetaliationFlag]] = {}
        if cases:
            for flag in self.db.scalars(select(RetaliationFlag).where(
                    RetaliationFlag.case_id.in_([c.id for c in cases]))):
                flags.setdefault(flag.case_id, []).append(flag)
        today = self.clock.today()
        return {c.id: clock_of(c, self.calendar, today, flags.get(c.id, ())) for c in cases}

    def deadline_counts(self) -> dict[str, dict[str, int]]:
        """Open cases per clock and state (overdue, due_soon): the deadlines page and home."""
        return _deadlines.deadline_counts(self.db, self.calendar, self.clock.today())
