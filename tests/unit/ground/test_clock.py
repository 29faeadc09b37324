"""peluit.ground.clock: one clock, days in the deployment's time zone."""

import datetime as dt

import pytest

from peluit.ground.clock import DEFAULT_ZONE, Clock, FixedClock

UTC = dt.UTC


def test_default_zone_is_jakarta():
    assert DEFAULT_ZONE == "Asia/Jakarta"
    assert Clock().zone_name == "Asia/Jakarta"


@pytest.mark.parametrize(("instant", "zone", "day"), [
    # 23:59:59 WIB on 1 December is 16:59:59 UTC: still the 1st in Jakarta.
    (dt.datetime(2026, 12, 1, 16, 59, 59, tzinfo=UTC), "Asia/Jakarta", "2026-12-01"),
    # One second later it is midnight in Jakarta: the 2nd, while UTC still says the 1st.
    (dt.datetime(2026, 12, 1, 17, 0, 0, tzinfo=UTC), "Asia/Jakarta", "2026-12-02"),
    # 03:00 WIB on the 2nd is 20:00 UTC on the 1st: the day is the 2nd.
    (dt.datetime(2026, 12, 1, 20, 0, 0, tzinfo=UTC), "Asia/Jakarta", "2026-12-02"),
    # Around UTC midnight a UTC deployment turns its day, Jakarta's had turned 7 hours before.
    (dt.datetime(2026, 12, 1, 23, 59, 59, tzinfo=UTC), "UTC", "2026-12-01"),
    (dt.datetime(2026, 12, 2, 0, 0, 0, tzinfo=UTC), "UTC", "2026-12-02"),
    (dt.datetime(2026, 12, 2, 0, 0, 0, tzinfo=UTC), "Asia/Jakarta", "2026-12-02"),
    # A zone with a negative offset: still the previous day.
    (dt.datetime(2026, 12, 2, 3, 0, 0, tzinfo=UTC), "America/New_York", "2026-12-01"),
])
def test_the_day_is_the_zones_day_around_midnight(instant, zone, day):
    clock = FixedClock(instant, zone)
    assert clock.day() == day
    assert clock.today() == dt.date.fromisoformat(day)


def test_an_answer_is_never_dated_before_its_question():
    # Question recorded at 23:30 WIB, answer at 00:30 WIB the next day: both in one zone.
    clock = FixedClock(dt.datetime(2026, 12, 1, 16, 30, tzinfo=UTC))
    asked = clock.day()
    clock.advance(hours=1)
    answered = clock.day()
    assert answered >= asked
    assert (asked, answered) == ("2026-12-01", "2026-12-02")


def test_fixed_clock_takes_seconds_or_an_aware_datetime_and_advances():
    c = FixedClock(1_700_000_000.0)
    assert c.timestamp() == 1_700_000_000.0
    assert c.now() == dt.datetime.fromtimestamp(1_700_000_000, UTC)
    c.advance(30)
    c.advance(minutes=1)
    assert c.timestamp() == 1_700_000_090.0
    assert c.hour() == 1_700_000_090 // 3600
    d = FixedClock(dt.datetime(2026, 1, 1, tzinfo=UTC))
    d.current = dt.datetime(2026, 1, 2, tzinfo=UTC)
    assert d.now() == dt.datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        FixedClock(dt.datetime(2026, 1, 1))


def test_an_unknown_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        Clock("Mars/Olympus_Mons")


def test_the_real_clock_moves_with_time():
    c = Clock("UTC")
    assert abs(c.timestamp() - dt.datetime.now(UTC).timestamp()) < 60
    assert c.now().tzinfo is not None
