"""The case list's metadata in memory: lists, filters and counts without a query per page.

SQLite can use one index per query, so a filter on two columns (category and channel, state
and deadline) or a text match with a filter ends up reading thousands of rows per page at
100,000 cases. This catalog keeps, for every case, only the plain metadata the database already
holds in clear (day received, state, category, channel, completion due day): one set of ids per
value, and all ids in list order (newest received first). A filter is an intersection of sets
(in C), a page a slice of the ordered ids that are in it.

It is refreshed by revision: every change of these columns goes through the service, which
bumps the case's ``rev``; the next refresh reads only rows above the last revision seen."""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Case
from .workflow import State

CLOSED = State.CLOSED.value


class CaseCatalog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[tuple[int, int]] = []  # (-received ordinal, -id), ascending
        # id -> (state, category, channel, completion due ordinal, received ordinal)
        self._meta: dict[int, tuple[str, str | None, str, int, int]] = {}
        self._by: dict[str, defaultdict[str | None, set[int]]] = {
            "state": defaultdict(set), "category": defaultdict(set), "channel": defaultdict(set)}
        self._open: set[int] = set()
        self._mark = -1

    def __len__(self) -> int:
        return len(self._keys)

    def refresh(self, session: Session) -> None:
        q = select(Case.id, Case.received_day, Case.state, Case.category, Case.channel,
                   Case.due_complete, Case.rev)
        with self._lock:
            rows = session.execute(q.where(Case.rev > self._mark)).all()
            bulk = len(rows) > 1000
            for row in rows:
                self._put(*row[:6], insort=not bulk)
                self._mark = max(self._mark, row[6])
            if bulk:  # one sort instead of many insertions into a long list
                self._keys = sorted((-m[4], -cid) for cid, m in self._meta.items())

    def _put(self, cid: int, received: dt.date, state: str, category: str | None,
             channel: str, due: dt.date, insort: bool = True) -> None:
        old = self._meta.get(cid)
        if old is None:
            if insort:
                bisect.insort(self._keys, (-received.toordinal(), -cid))
        else:
            self._by["state"][old[0]].discard(cid)
            self._by["category"][old[1]].discard(cid)
            self._by["channel"][old[2]].discard(cid)
        self._meta[cid] = (state, category, channel, due.toordinal(), received.toordinal())
        if state == CLOSED:
            self._open.discard(cid)
        else:
            self._open.add(cid)
        self._by["state"][state].add(cid)
        self._by["category"][category].add(cid)
        self._by["channel"][channel].add(cid)

    def select(self, *, state: str = "", category: str = "", channel: str = "",
               overdue_before: dt.date | None = None,
               due_between: tuple[dt.date, dt.date] | None = None,
               matches: set[int] | None = None, offset: int = 0,
               limit: int = 50, exclude: set[int] | None = None) -> tuple[list[int], int]:
        """Ids of one page (newest received first) and the total number of cases matching,
        leaving out ``exclude`` (cases the member may not see: workbench/cases/access.py)."""
        with self._lock:
            sets: list[Iterable[int]] = []
            if exclude:
                sets.append(set(self._meta).difference(exclude))
            if state == "open" or overdue_before or due_between:
                sets.append(self._open)
            if state and state != "open":
                sets.append(self._by["state"].get(state, set()))
            if category:
                sets.append(self._by["category"].get(category, set()))
            if channel:
                sets.append(self._by["channel"].get(channel, set()))
            if matches is not None:
                sets.append(matches)
            if not sets:
                total = len(self._keys)
                return [-k[1] for k in self._keys[offset:offset + limit]], total
            sets.sort(key=len)  # type: ignore[arg-type]
            # Never mutate a stored set: intersection and the comprehensions make new ones.
            chosen = sets[0] if len(sets) == 1 else set(sets[0]).intersection(*sets[1:])
            if overdue_before is not None:
                cut = overdue_before.toordinal()
                chosen = {i for i in chosen if self._meta[i][3] < cut}
            if due_between is not None:
                lo, hi = due_between[0].toordinal(), due_between[1].toordinal()
                chosen = {i for i in chosen if lo <= self._meta[i][3] <= hi}
            total = len(chosen)
            need = offset + limit
            if total * 20 < len(self._keys):  # few: sorting them beats walking the list
                meta = self._meta
                page = sorted((-meta[i][4], -i) for i in chosen)[offset:need]
                return [-k[1] for k in page], total
            # Many: walk the list in order and stop once the page is full.
            out: list[int] = []
            if need:
                for k in self._keys:
                    if -k[1] in chosen:
                        out.append(-k[1])
                        if len(out) == need:
                            break
            return out[offset:], total
