"""The server's notion of "now", as a service so that tests can fix it."""

from __future__ import annotations

import datetime as dt
import time


class Clock:
    def now(self) -> float:
        """Seconds since the epoch (used only inside sealed sessions and for throttle windows)."""
        return time.time()

    def today(self) -> dt.date:
        """Today in UTC: what reporter-side dates are stored as."""
        return dt.datetime.fromtimestamp(self.now(), dt.UTC).date()

    def day(self) -> str:
        return self.today().isoformat()

    def hour(self) -> int:
        return int(self.now() // 3600)


class FixedClock(Clock):
    """A clock that moves only when told to (tests, benchmarks)."""

    def __init__(self, start: float | None = None):
        self.t = time.time() if start is None else start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
