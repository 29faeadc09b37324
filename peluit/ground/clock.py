"""The one clock of the house, as a service so that tests can fix time.

Every day the system records, on the server and on the workbench, is a day in the deployment's
time zone (``Asia/Jakarta`` unless configured otherwise): a working day is a local day, and a
reporter's answer must never be dated before the question it answers because the two sides
counted days in different zones. Instants (session expiry, throttle windows, audit entries) are
aware UTC datetimes or epoch seconds and never leave the process finer than the caller allows
(the server stores nothing finer than a day).

Nothing else in the code calls ``date.today()`` or ``datetime.now()`` for a day: it takes a
``Clock`` (or, at a library's edge, ``Clock().today()`` in the default zone)."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Jakarta"


def zone_info(name: str) -> ZoneInfo:
    """The zone called ``name``; ValueError for a name the tz database does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


class Clock:
    """Real time; days in ``zone``."""

    def __init__(self, zone: str | None = None):
        self.zone_name = zone or DEFAULT_ZONE
        self.zone = zone_info(self.zone_name)

    def timestamp(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def now(self) -> dt.datetime:
        """This instant, as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self.timestamp(), dt.UTC)

    def local(self) -> dt.datetime:
        """This instant in the deployment's zone (what a person there reads on a wall clock)."""
        return self.now().astimezone(self.zone)

    def today(self) -> dt.date:
        """Today in the deployment's zone: the day every record carries."""
        return self.local().date()

    def day(self) -> str:
        """Today as ``YYYY-MM-DD``."""
        return self.today().isoformat()

    def hour(self) -> int:
        """Hours since the epoch (a coarse bucket for purges)."""
        return int(self.timestamp() // 3600)


class FixedClock(Clock):
    """A clock that moves only when told to (tests, benchmarks). ``start`` is an aware datetime
    or epoch seconds (default: now)."""

    def __init__(self, start: dt.datetime | float | None = None, zone: str | None = None):
        super().__init__(zone)
        if start is None:
            start = time.time()
        if isinstance(start, dt.datetime):
            if start.tzinfo is None:
                raise ValueError("FixedClock needs an aware datetime")
            start = start.timestamp()
        self.t = float(start)

    def timestamp(self) -> float:
        return self.t

    @property
    def current(self) -> dt.datetime:
        return self.now()

    @current.setter
    def current(self, value: dt.datetime) -> None:
        self.t = value.timestamp()

    def advance(self, seconds: float = 0, **delta: float) -> None:
        """Move on by ``seconds`` and/or a ``timedelta``'s keywords (``days=1``)."""
        self.t += seconds + dt.timedelta(**delta).total_seconds()
