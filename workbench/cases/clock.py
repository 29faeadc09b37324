"""The workbench's idea of now. Services take a clock so tests can fix time; days are counted in
the inspectorate's time zone (WIB by default), because a working day is a local day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, zone: str = "Asia/Jakarta"):
        self.zone = ZoneInfo(zone)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().astimezone(self.zone).date()


class FixedClock(Clock):
    def __init__(self, now: dt.datetime, zone: str = "Asia/Jakarta"):
        super().__init__(zone)
        self.current = now

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)
