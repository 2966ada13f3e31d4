"""Business-time arithmetic: worked examples on a Prague office calendar, and properties that
hold for any calendar (hypothesis) across DST changes, midnight, holidays and empty weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statemachines.calendar import WEEKDAYS, Calendar, CalendarError, NoBusinessTime

PRAGUE = ZoneInfo("Europe/Prague")
OFFICE = Calendar.from_dict(
    {
        "time_zone": "Europe/Prague",
        "hours": {day: ["08:00-17:00"] for day in WEEKDAYS[:5]},
        "holidays": ["12-24", "12-25", "12-26", "01-01", "2027-03-26"],
    }
)


def prague(*args: int) -> datetime:
    return datetime(*args, tzinfo=PRAGUE)  # type: ignore[misc]


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# ------------------------------------------------------------------------ worked examples


def test_a_deadline_crosses_the_night_and_the_weekend() -> None:
    friday_four_pm = prague(2026, 11, 27, 16, 0)
    assert OFFICE.add(friday_four_pm, hours(2)) == prague(2026, 11, 30, 9, 0)
    assert OFFICE.between(friday_four_pm, prague(2026, 11, 30, 9, 0)) == hours(2)


def test_time_outside_working_hours_starts_counting_at_the_next_opening() -> None:
    saturday = prague(2026, 11, 28, 11, 30)
    assert OFFICE.add(saturday, hours(4)) == prague(2026, 11, 30, 12, 0)
    assert OFFICE.add(prague(2026, 11, 30, 6, 0), timedelta(minutes=1)) == prague(
        2026, 11, 30, 8, 1
    )


def test_holidays_yearly_and_one_off_are_skipped() -> None:
    # Wed 23 Dec 16:00 + 3 h: Thu 24, Fri 25 (yearly), weekend, Mon 28 10:00.
    assert OFFICE.add(prague(2026, 12, 23, 16, 0), hours(3)) == prague(2026, 12, 28, 10, 0)
    # Good Friday 2027 is a one-off holiday.
    assert OFFICE.add(prague(2027, 3, 25, 16, 0), hours(2)) == prague(2027, 3, 29, 9, 0)


def test_the_clock_going_forward_or_back_does_not_change_a_working_day() -> None:
    # Spring (29 Mar 2026) and autumn (25 Oct 2026) changes happen on Sundays: the deadline
    # keeps its local wall time, and the real time between stays 9 business hours a day.
    assert OFFICE.add(prague(2026, 3, 27, 16, 0), hours(2)) == prague(2026, 3, 30, 9, 0)
    assert OFFICE.add(prague(2026, 10, 23, 16, 0), hours(2)) == prague(2026, 10, 26, 9, 0)
    assert OFFICE.between(prague(2026, 3, 23, 0, 0), prague(2026, 4, 6, 0, 0)) == hours(90)


def test_a_night_shift_counts_the_real_hours_of_a_clock_change() -> None:
    nights = Calendar.from_dict({"time_zone": "Europe/Prague", "hours": {"sun": ["01:00-04:00"]}})
    spring, autumn = prague(2026, 3, 29, 0, 0), prague(2026, 10, 25, 0, 0)
    assert nights.between(spring, spring + hours(24)) == hours(2)
    assert nights.between(autumn, autumn + hours(24)) == hours(4)


def test_a_calendar_open_all_the_time_is_wall_clock_time() -> None:
    always = Calendar.always("Europe/Prague")
    start = prague(2026, 3, 28, 22, 17)  # the clock goes forward that night
    assert always.add(start, hours(50)) == start.astimezone(UTC) + hours(50)
    assert always.add(start, hours(50)) == prague(2026, 3, 31, 1, 17)
    assert always.between(start, prague(2026, 3, 31, 1, 17)) == hours(50)


def test_an_empty_week_has_no_business_time() -> None:
    closed = Calendar.from_dict({"time_zone": "UTC", "hours": {}})
    with pytest.raises(NoBusinessTime):
        closed.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(minutes=1))
    assert closed.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)) == (
        timedelta(0)
    )


def test_a_calendar_document_survives_a_round_trip() -> None:
    assert Calendar.from_dict(OFFICE.to_dict()) == OFFICE


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"hours": {"mon": ["17:00-08:00"]}}, "hours.mon"),
        ({"hours": {"mon": ["08:00-12:00", "11:00-13:00"]}}, "overlap"),
        ({"hours": {"funday": ["08:00-12:00"]}}, "funday"),
        ({"hours": {"tue": ["8-12"]}}, "hours.tue"),
        ({"hours": {"wed": ["00:00-24:01"]}}, "hours.wed"),
        ({"holidays": ["2026-02-30"]}, "holidays"),
        ({"holidays": ["christmas"]}, "holidays"),
    ],
)
def test_a_broken_calendar_is_refused_with_the_place_of_each_problem(
    doc: dict[str, object], problem: str
) -> None:
    with pytest.raises(CalendarError) as refused:
        Calendar.from_dict(doc)
    assert any(problem in text for text in refused.value.problems)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        OFFICE.add(datetime(2026, 1, 5, 9, 0), hours(1))


# ------------------------------------------------------------------------ properties

ZONES = [
    "UTC",
    "Europe/Prague",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute change
    "America/Santiago",  # changes at midnight
    "Asia/Kolkata",
    "Pacific/Apia",  # skipped 30 Dec 2011 entirely
]


@st.composite
def windows(draw: st.DrawFn) -> list[str]:
    cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
    cuts = cuts[: len(cuts) // 2 * 2]
    return [
        f"{a * 15 // 60:02d}:{a * 15 % 60:02d}-{b * 15 // 60:02d}:{b * 15 % 60:02d}"
        for a, b in zip(cuts[::2], cuts[1::2], strict=True)
        if a < b
    ]


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    week = {day: draw(windows()) for day in WEEKDAYS}
    if not any(week.values()):
        week["mon"] = ["09:00-10:00"]
    days = draw(st.lists(st.dates(date(2010, 1, 1), date(2031, 12, 31)), max_size=20))
    yearly = draw(st.lists(st.tuples(st.integers(1, 12), st.integers(1, 28)), max_size=8))
    holidays = [d.isoformat() for d in days] + [f"{m:02d}-{d:02d}" for m, d in yearly]
    zone = draw(st.sampled_from(ZONES))
    return Calendar.from_dict({"time_zone": zone, "hours": week, "holidays": holidays})


anytime = st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
# The nights clocks change on (last Sundays of March and October in Europe, the second and
# first Sundays of March and November in the US, April and September down south), to the hour.
change_nights = st.builds(
    lambda year, month, day, minute: (
        datetime(year, month, day, tzinfo=UTC) + timedelta(minutes=minute)
    ),
    st.integers(2010, 2030),
    st.sampled_from([3, 4, 9, 10, 11]),
    st.integers(1, 30),
    st.integers(0, 48 * 60),
)
instants = st.one_of(anytime, change_nights)
amounts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(calendars(), instants, amounts)
def test_the_business_time_between_a_start_and_its_deadline_is_the_amount_added(
    calendar: Calendar, start: datetime, amount: timedelta
) -> None:
    due = calendar.add(start, amount)
    assert due >= start
    assert calendar.between(start, due) == amount


@FAST
@given(calendars(), instants, amounts, amounts)
def test_a_longer_amount_never_gives_an_earlier_deadline(
    calendar: Calendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    shorter, longer = sorted((a, b))
    assert calendar.add(start, shorter) <= calendar.add(start, longer)


@FAST
@given(calendars(), instants, amounts, amounts)
def test_business_time_adds_up_over_consecutive_spans(
    calendar: Calendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    middle, end = start + a, start + a + b  # UTC: real time
    whole = calendar.between(start, end)
    assert whole == calendar.between(start, middle) + calendar.between(middle, end)
    assert timedelta(0) <= whole <= end - start


@FAST
@given(calendars(), instants, st.timedeltas(min_value=timedelta(seconds=1), max_value=hours(200)))
def test_a_deadline_lies_in_working_time(
    calendar: Calendar, start: datetime, amount: timedelta
) -> None:
    due = calendar.add(start, amount)
    assert calendar.is_open(due - timedelta(microseconds=1))
