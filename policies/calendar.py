"""Working days and complaint deadlines as an Indonesian inspectorate counts them.

A working day is Monday to Friday, minus national holidays (``holidays`` category PUBLIC) and cuti
bersama, the collective leave days of the joint ministerial decree (category GOVERNMENT). The
decree is amended mid-year from time to time, and the package only knows cuti bersama for years
already decreed, so an override table can close extra days (a new cuti bersama) or open days the
package holds as holidays (a cancelled one). Overrides win over everything, weekends included.

Counting rule: the day a complaint is received is day 0; "within 3 working days" means by the end
of the third working day after it. A complaint received on a Saturday or a holiday therefore has
the next working day as its day 1.

Deadline defaults are the service targets of ``policies.clocks`` (defined there once, each with
its source) and are settings, because they are published service standards rather than law. The
EU Directive 2019/1937 yardsticks (acknowledge in 7 calendar days, feedback in 3 months) are
computed beside them for compliance officers only; reporter pages do not show them.

Configuration (a ``[calendar]`` table in a policy file, or any mapping of the same shape)::

    [calendar]
    acknowledge_days = 3     # working days (policies.clocks: what each one means, its source)
    verify_days = 3          # working days
    complete_days = 75       # working days
    retaliation_days = 2     # working days
    carry_days = 1           # working days between two carried inbox bundles
    eu_acknowledge_days = 7  # calendar days
    eu_feedback_months = 3   # calendar months

    [[calendar.override]]
    date = "2026-12-31"
    working = false
    note = "SKB amendment: extra cuti bersama"

Speed: counting uses per-year prefix sums, so one count or one addition costs a few list
look-ups whatever the span; SLA statistics over 100,000 cases stay cheap."""

from __future__ import annotations

import bisect
import calendar as _stdcal
import datetime as dt
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import holidays as _holidays
from holidays.constants import GOVERNMENT, PUBLIC

from .clocks import DEFAULT_DAYS

COUNTRY = "ID"
CATEGORIES = (PUBLIC, GOVERNMENT)
# Years outside this range are refused: a typo such as 20226 would otherwise build a calendar
# for a year nobody means and hide the mistake behind a plausible-looking date.
MIN_YEAR = 1990
MAX_YEAR = 2200


class CalendarError(ValueError):
    """A calendar setting or override is malformed; the message says which one and why."""


@dataclass(frozen=True)
class Override:
    day: dt.date
    working: bool
    note: str = ""


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long each step may take. Working days unless the name says calendar."""

    acknowledge_days: int = DEFAULT_DAYS["acknowledge_days"]
    verify_days: int = DEFAULT_DAYS["verify_days"]
    complete_days: int = DEFAULT_DAYS["complete_days"]
    eu_acknowledge_days: int = 7
    eu_feedback_months: int = 3
    retaliation_days: int = DEFAULT_DAYS["retaliation_days"]
    carry_days: int = DEFAULT_DAYS["carry_days"]

    def __post_init__(self) -> None:
        for name in ("acknowledge_days", "verify_days", "complete_days", "eu_acknowledge_days",
                     "eu_feedback_months", "retaliation_days", "carry_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1000:
                raise CalendarError(f"calendar.{name} must be a whole number from 1 to 1000")


@dataclass(frozen=True)
class DueDates:
    """The deadlines of one complaint, all as dates (the last day on which it is still in time)."""

    received: dt.date
    acknowledge: dt.date
    verify: dt.date
    complete: dt.date
    eu_acknowledge: dt.date
    eu_feedback: dt.date

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k).isoformat() for k in
                ("received", "acknowledge", "verify", "complete", "eu_acknowledge", "eu_feedback")}


def _parse_day(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise CalendarError(f"{where}: give a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise CalendarError(f"{where}: {value!r} is not a date in YYYY-MM-DD form") from None
    else:
        raise CalendarError(f"{where}: expected a date in YYYY-MM-DD form")
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise CalendarError(f"{where}: year {day.year} is outside {MIN_YEAR}–{MAX_YEAR}")
    return day


def parse_overrides(entries: Iterable[Mapping[str, Any]]) -> tuple[Override, ...]:
    """Validate ``[[calendar.override]]`` entries: one entry per day, ``working`` a boolean."""
    seen: dict[dt.date, Override] = {}
    for i, entry in enumerate(entries):
        where = f"calendar.override[{i}]"
        if not isinstance(entry, Mapping):
            raise CalendarError(f"{where}: expected a table with date and working")
        unknown = set(entry) - {"date", "working", "note"}
        if unknown:
            raise CalendarError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        day = _parse_day(entry.get("date"), where)
        working = entry.get("working")
        if not isinstance(working, bool):
            raise CalendarError(f"{where}: working must be true or false")
        note = entry.get("note", "")
        if not isinstance(note, str) or len(note) > 200:
            raise CalendarError(f"{where}: note must be text of at most 200 characters")
        if day in seen:
            raise CalendarError(f"{where}: {day.isoformat()} is overridden twice")
        seen[day] = Override(day, working, note)
    return tuple(sorted(seen.values(), key=lambda o: o.day))


def parse_config(table: Mapping[str, Any] | None) -> tuple[DeadlinePolicy, tuple[Override, ...]]:
    """The deadline policy and overrides from a ``[calendar]`` table (missing keys: defaults)."""
    table = dict(table or {})
    overrides = table.pop("override", [])
    if not isinstance(overrides, list):
        raise CalendarError("calendar.override must be an array of tables ([[calendar.override]])")
    known = set(DeadlinePolicy.__dataclass_fields__)
    unknown = set(table) - known
    if unknown:
        raise CalendarError(f"calendar: unknown key(s) {', '.join(sorted(unknown))}")
    return DeadlinePolicy(**table), parse_overrides(overrides)


def load_config(path: str | Path) -> tuple[DeadlinePolicy, tuple[Override, ...]]:
    """Read the ``[calendar]`` table of a TOML policy/config file."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise CalendarError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: not valid TOML ({exc})") from None
    table = doc.get("calendar", {})
    if not isinstance(table, dict):
        raise CalendarError(f"{path}: calendar must be a table")
    return parse_config(table)


@dataclass
class _Year:
    """One year's working days: ``cum[i]`` = working days from 1 January up to day-of-year i
    (0-based, inclusive), and ``days`` the ordinals of its working days, for bisecting."""

    cum: list[int]
    days: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.cum[-1]


class WorkingCalendar:
    """Working-day arithmetic for Indonesia with an override table. Thread-safe, caches per year."""

    def __init__(self, overrides: Iterable[Override] = ()):
        self._overrides = {o.day: o for o in overrides}
        self._years: dict[int, _Year] = {}
        self._names: dict[tuple[int, str], dict[dt.date, str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, table: Mapping[str, Any] | None) -> WorkingCalendar:
        return cls(parse_config(table)[1])

    @property
    def overrides(self) -> tuple[Override, ...]:
        return tuple(sorted(self._overrides.values(), key=lambda o: o.day))

    # -- holidays -----------------------------------------------------------------------------

    def holidays(self, year: int, language: str = "id") -> dict[dt.date, str]:
        """Days off in ``year`` (national holidays, cuti bersama, closed overrides) with names;
        days that fall on a weekend are included, opened overrides are left out."""
        _check_year(year)
        lang = "id" if language == "id" else "en_US"
        key = (year, lang)
        names = self._names.get(key)
        if names is None:
            raw = _holidays.country_holidays(COUNTRY, years=year, categories=CATEGORIES,
                                             language=lang)
            names = {d: n for d, n in sorted(raw.items())}
            with self._lock:
                self._names[key] = names
        result = dict(names)
        for o in self._overrides.values():
            if o.day.year != year:
                continue
            if o.working:
                result.pop(o.day, None)
            else:
                result[o.day] = o.note or result.get(o.day, "")
        return dict(sorted(result.items()))

    def is_working_day(self, day: dt.date) -> bool:
        y = self._year(day.year)
        i = day.timetuple().tm_yday - 1
        return y.cum[i] - (y.cum[i - 1] if i else 0) == 1

    # -- arithmetic ---------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        _check_year(year)
        off = set(_holidays.country_holidays(COUNTRY, years=year, categories=CATEGORIES))
        start = dt.date(year, 1, 1)
        n = 366 if _stdcal.isleap(year) else 365
        cum: list[int] = []
        days: list[int] = []
        count = 0
        for i in range(n):
            d = start + dt.timedelta(days=i)
            o = self._overrides.get(d)
            working = o.working if o is not None else (d.weekday() < 5 and d not in off)
            if working:
                count += 1
                days.append(d.toordinal())
            cum.append(count)
        built = _Year(cum, days)
        with self._lock:
            self._years[year] = built
        return built

    def _index(self, day: dt.date) -> int:
        """Working days from 1 January of ``day``'s year up to ``day`` inclusive."""
        return self._year(day.year).cum[day.timetuple().tm_yday - 1]

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``; negative when end < start.
        So a complaint received on ``start`` and answered on ``end`` took this many days."""
        if end < start:
            return -self.working_days_between(end, start)
        total = self._index(end) - self._index(start)
        for year in range(start.year, end.year):
            total += self._year(year).total
        return total

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself is day 0). n >= 0; with
        n = 0 the answer is ``start`` itself whether or not it is a working day."""
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return start
        year = start.year
        need = n + self._index(start)  # count from 1 January of start's year
        while True:
            y = self._year(year)
            if need <= y.total:
                return dt.date.fromordinal(y.days[need - 1])
            need -= y.total
            year += 1

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself if it is a working day, else the first working day after it."""
        y = self._year(day.year)
        i = bisect.bisect_left(y.days, day.toordinal())
        if i < len(y.days):
            return dt.date.fromordinal(y.days[i])
        return self.add_working_days(dt.date(day.year, 12, 31), 1)

    def due_dates(self, received: dt.date, policy: DeadlinePolicy | None = None) -> DueDates:
        policy = policy or DeadlinePolicy()
        return DueDates(
            received=received,
            acknowledge=self.add_working_days(received, policy.acknowledge_days),
            verify=self.add_working_days(received, policy.verify_days),
            complete=self.add_working_days(received, policy.complete_days),
            eu_acknowledge=received + dt.timedelta(days=policy.eu_acknowledge_days),
            eu_feedback=add_months(received, policy.eu_feedback_months),
        )


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, clamped to the month's end (31 January + 1 month = 28/29 Feb),
    the usual reading of "within three months"."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _stdcal.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
