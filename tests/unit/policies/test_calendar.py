"""Working days against the 2026 calendar: 17 national holidays and 8 cuti bersama as the joint
ministerial decree has them (and as the `holidays` package reports them)."""

import datetime as dt

import pytest

from policies.calendar import (
    CalendarError,
    DeadlinePolicy,
    Override,
    WorkingCalendar,
    add_months,
    load_config,
    parse_config,
)

D = dt.date

NATIONAL_2026 = {
    D(2026, 1, 1), D(2026, 1, 16), D(2026, 2, 17), D(2026, 3, 19), D(2026, 3, 21),
    D(2026, 3, 22), D(2026, 4, 3), D(2026, 4, 5), D(2026, 5, 1), D(2026, 5, 14),
    D(2026, 5, 27), D(2026, 5, 31), D(2026, 6, 1), D(2026, 6, 16), D(2026, 8, 17),
    D(2026, 8, 25), D(2026, 12, 25),
}
CUTI_BERSAMA_2026 = {
    D(2026, 2, 16), D(2026, 3, 18), D(2026, 3, 20), D(2026, 3, 23), D(2026, 3, 24),
    D(2026, 5, 15), D(2026, 5, 28), D(2026, 12, 24),
}


@pytest.fixture(scope="module")
def cal():
    return WorkingCalendar()


def test_2026_has_the_decreed_holidays(cal):
    import holidays
    from holidays.constants import GOVERNMENT, PUBLIC
    public = set(holidays.country_holidays("ID", years=2026, categories=(PUBLIC,)))
    government = set(holidays.country_holidays("ID", years=2026, categories=(GOVERNMENT,)))
    assert public == NATIONAL_2026 and len(public) == 17
    assert government == CUTI_BERSAMA_2026 and len(government) == 8
    assert set(cal.holidays(2026)) == NATIONAL_2026 | CUTI_BERSAMA_2026
    assert cal.holidays(2026)[D(2026, 8, 17)]  # named, in Indonesian by default
    assert "Independence" in cal.holidays(2026, "en")[D(2026, 8, 17)]


def test_working_days_in_2026(cal):
    weekdays = sum(1 for i in range(365) if (D(2026, 1, 1) + dt.timedelta(i)).weekday() < 5)
    off_on_weekdays = {d for d in NATIONAL_2026 | CUTI_BERSAMA_2026 if d.weekday() < 5}
    assert weekdays == 261
    assert len(off_on_weekdays) == 21  # 4 national holidays fall on a weekend
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 261 - 21
    for d in off_on_weekdays:
        assert not cal.is_working_day(d)
    assert not cal.is_working_day(D(2026, 3, 7))  # a Saturday
    assert cal.is_working_day(D(2026, 3, 25))


def test_idul_fitri_week(cal):
    # Received Tuesday 17 March 2026. Off: 18 (cuti), 19 (Nyepi), 20 (cuti), 21-22 (weekend and
    # Idul Fitri), 23-24 (cuti). Working days: 25, 26, 27 → the 3-day deadline is Friday 27.
    assert cal.add_working_days(D(2026, 3, 17), 1) == D(2026, 3, 25)
    assert cal.add_working_days(D(2026, 3, 17), 3) == D(2026, 3, 27)
    assert cal.working_days_between(D(2026, 3, 17), D(2026, 3, 27)) == 3
    assert cal.working_days_between(D(2026, 3, 27), D(2026, 3, 17)) == -3
    assert cal.add_working_days(D(2026, 3, 17), 0) == D(2026, 3, 17)
    assert cal.next_working_day(D(2026, 3, 18)) == D(2026, 3, 25)
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 3, 17), -1)


def test_received_on_a_holiday_counts_from_the_next_working_day(cal):
    # Saturday 21 March (Idul Fitri): day 1 is Wednesday 25 March.
    assert cal.add_working_days(D(2026, 3, 21), 1) == D(2026, 3, 25)


def test_across_the_new_year(cal):
    # Wed 23 Dec 2026; off 24 (cuti), 25 (Christmas); Mon 28, Tue 29, Wed 30, Thu 31, then 1 Jan
    # 2027 is New Year's Day, so the 5th working day is Monday 4 January 2027.
    assert cal.add_working_days(D(2026, 12, 23), 4) == D(2026, 12, 31)
    assert cal.add_working_days(D(2026, 12, 23), 5) == D(2027, 1, 4)
    assert cal.working_days_between(D(2026, 12, 23), D(2027, 1, 4)) == 5


def test_arithmetic_agrees_with_counting_one_by_one(cal):
    start = D(2025, 11, 3)
    for n in range(0, 400, 7):
        due = cal.add_working_days(start, n)
        assert cal.working_days_between(start, due) == n
        brute, d = 0, start
        while d < due:
            d += dt.timedelta(days=1)
            brute += cal.is_working_day(d)
        assert brute == n
        assert n == 0 or cal.is_working_day(due)


def test_due_dates_defaults_and_eu_yardsticks(cal):
    due = cal.due_dates(D(2026, 1, 30))  # a Friday
    assert due.acknowledge == D(2026, 2, 4)
    assert due.verify == D(2026, 2, 4)
    assert cal.working_days_between(due.received, due.complete) == 75
    # Counted by hand: February 18 working days, March 17 (Nyepi, Lebaran and its cuti bersama),
    # April 21 (Good Friday), May 16 (1, 14, 15, 27, 28 off) = 72; 1 June is Pancasila Day, so
    # the 75th working day is Thursday 4 June.
    assert due.complete == D(2026, 6, 4)
    assert due.eu_acknowledge == D(2026, 2, 6)
    assert due.eu_feedback == D(2026, 4, 30)
    assert due.as_dict()["complete"] == "2026-06-04"


def test_configurable_deadlines():
    policy, _ = parse_config({"acknowledge_days": 2, "complete_days": 60})
    due = WorkingCalendar().due_dates(D(2026, 1, 30), policy)
    assert due.acknowledge == D(2026, 2, 3) and due.verify == D(2026, 2, 4)
    assert due.complete < D(2026, 6, 4)


def test_override_closes_and_opens_days():
    # The decree is amended: 31 December becomes cuti bersama, and the cuti bersama of
    # 24 March is cancelled.
    cal = WorkingCalendar([Override(D(2026, 12, 31), False, "SKB amendment"),
                           Override(D(2026, 3, 24), True)])
    assert not cal.is_working_day(D(2026, 12, 31))
    assert cal.is_working_day(D(2026, 3, 24))
    assert cal.add_working_days(D(2026, 3, 17), 1) == D(2026, 3, 24)
    assert cal.add_working_days(D(2026, 12, 23), 4) == D(2027, 1, 4)
    days = cal.holidays(2026)
    assert days[D(2026, 12, 31)] == "SKB amendment" and D(2026, 3, 24) not in days
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 240
    # A decreed working Saturday is possible too.
    sat = WorkingCalendar([Override(D(2026, 3, 28), True)])
    assert sat.is_working_day(D(2026, 3, 28))


def test_config_from_toml(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(
        '[calendar]\nverify_days = 5\n\n'
        '[[calendar.override]]\ndate = "2026-12-31"\nworking = false\nnote = "tambahan"\n',
        encoding="utf-8")
    policy, overrides = load_config(path)
    assert policy == DeadlinePolicy(verify_days=5)
    assert overrides == (Override(D(2026, 12, 31), False, "tambahan"),)
    assert not WorkingCalendar.from_config(
        {"override": [{"date": "2026-12-31", "working": False}]}).is_working_day(D(2026, 12, 31))


@pytest.mark.parametrize("table, message", [
    ({"complete_days": 0}, "complete_days"),
    ({"complete_days": "75"}, "complete_days"),
    ({"verify_days": True}, "verify_days"),
    ({"speed": 1}, "unknown key"),
    ({"override": {"date": "2026-01-02"}}, "array of tables"),
    ({"override": [{"date": "2026-13-01", "working": False}]}, "not a date"),
    ({"override": [{"date": "20226-01-01", "working": False}]}, "not a date"),
    ({"override": [{"date": "2026-01-02", "working": "no"}]}, "true or false"),
    ({"override": [{"date": "2026-01-02", "working": False, "colour": 1}]}, "unknown key"),
    ({"override": [{"date": "2026-01-02", "working": False},
                   {"date": "2026-01-02", "working": True}]}, "overridden twice"),
])
def test_bad_config_is_refused_clearly(table, message):
    with pytest.raises(CalendarError, match=message):
        parse_config(table)


def test_bad_toml_file(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[calendar\n", encoding="utf-8")
    with pytest.raises(CalendarError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(CalendarError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_add_months_clamps():
    assert add_months(D(2026, 11, 30), 3) == D(2027, 2, 28)
    assert add_months(D(2027, 11, 30), 3) == D(2028, 2, 29)
    assert add_months(D(2026, 1, 15), 3) == D(2026, 4, 15)


def test_absurd_year_refused(cal):
    with pytest.raises(CalendarError):
        cal.is_working_day(D(9999, 1, 1))
