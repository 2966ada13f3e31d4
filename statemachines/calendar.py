"""Business-hours calendars and business-time arithmetic: pure and deterministic.

A calendar is working hours per weekday (local wall time, several windows a day), a time zone
and holidays (one-off dates and yearly month-days). Business time is **real elapsed time inside
the working windows**: on the night a clock goes forward a window 01:00-04:00 holds two hours,
on the night it goes back four. A window's local times map to instants as Python's ``zoneinfo``
does with ``fold=0`` (a time that does not exist is read with the offset before the change; a
time that exists twice is its first occurrence).

The ticket workflow uses this (SLA deadlines, business-time timeouts), so nothing here reads
the clock, the network or the database; the zone rules come from ``zoneinfo`` (the system's
tz database).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 24 * 60
#: How many days in a row without working time ``add`` passes before it gives up (holidays
#: may close weeks; an empty week closes all of them).
SEARCH_DAYS = 3 * 366
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_YEARLY = re.compile(r"^(\d{2})-(\d{2})$")
_ONE_OFF = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

Window = tuple[int, int]  # minutes after local midnight: [start, end), end <= 24:00


class CalendarError(ValueError):
    """A calendar document that cannot be used; ``problems`` says where and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class NoBusinessTime(ValueError):
    """The calendar has no working time in the searched span (an empty week, or holidays)."""


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "UTC"
    #: Seven tuples of windows, Monday first.
    hours: tuple[tuple[Window, ...], ...] = ((),) * 7
    holidays: frozenset[date] = field(default_factory=frozenset)
    yearly: frozenset[tuple[int, int]] = field(default_factory=frozenset)  # (month, day)

    @classmethod
    def always(cls, time_zone: str = "UTC") -> Calendar:
        """Every minute of every day: business time is wall-clock time."""
        return cls(time_zone=time_zone, hours=(((0, DAY),),) * 7)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Calendar:
        """Read ``{"time_zone": "Europe/Prague", "hours": {"mon": ["08:00-17:00"], ...},
        "holidays": ["2026-12-24", "12-25"]}`` (``MM-DD`` every year), every problem located."""
        problems: list[str] = []
        zone = str(doc.get("time_zone") or "UTC")
        try:
            _zone(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"time_zone: unknown time zone {zone!r}")
        raw_hours = doc.get("hours") or {}
        if not isinstance(raw_hours, dict):
            problems.append("hours: must map weekdays to lists of windows")
            raw_hours = {}
        unknown = sorted(set(map(str, raw_hours)) - set(WEEKDAYS))
        if unknown:
            problems.append(f"hours: unknown weekday {unknown[0]!r} (use {', '.join(WEEKDAYS)})")
        hours = tuple(_windows(day, raw_hours.get(day) or [], problems) for day in WEEKDAYS)
        one_off, yearly = _holidays(doc.get("holidays") or [], problems)
        if problems:
            raise CalendarError(problems)
        return cls(zone, hours, frozenset(one_off), frozenset(yearly))

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_zone": self.time_zone,
            "hours": {
                day: [f"{_hhmm(s)}-{_hhmm(e)}" for s, e in windows]
                for day, windows in zip(WEEKDAYS, self.hours, strict=True)
                if windows
            },
            "holidays": sorted(d.isoformat() for d in self.holidays)
            + sorted(f"{m:02d}-{d:02d}" for m, d in self.yearly),
        }

    def working_day(self) -> timedelta:
        """One working day of business time: the week's working time over its working days
        (24 hours for a calendar without any)."""
        days = [sum((e - s for s, e in windows), 0) for windows in self.hours]
        working = [minutes for minutes in days if minutes]
        return timedelta(minutes=sum(working) / len(working)) if working else timedelta(hours=24)

    # Questions about days and instants

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working windows of one local day as UTC instants, in order."""
        if self.is_holiday(day):
            return []
        zone = _zone(self.time_zone)
        found: list[tuple[datetime, datetime]] = []
        for start, end in self.hours[day.weekday()]:
            begins, ends = _instant(day, start, zone), _instant(day, end, zone)
            if found and begins < found[-1][1]:
                begins = found[-1][1]  # a window the clock moved back into the one before
            if ends > begins:
                found.append((begins, ends))
        return found

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls inside a working window."""
        day = self._local_day(at)
        at = at.astimezone(UTC)
        return any(begins <= at < ends for begins, ends in self.windows(day))

    # Arithmetic

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of business time after ``start`` has passed.

        Zero (or less) is ``start`` itself; otherwise the result lies in a working window or
        at its end. ``NoBusinessTime`` after ``SEARCH_DAYS`` days in a row without working time."""
        if amount <= timedelta(0):
            return start
        remaining = amount
        day = self._local_day(start)
        start = start.astimezone(UTC)  # aware arithmetic in one zone would be wall-clock time
        closed_days = 0
        while closed_days < SEARCH_DAYS:
            closed_days += 1
            for begins, ends in self.windows(day):
                if ends <= start:
                    continue
                closed_days, begins = 0, max(begins, start)
                if remaining <= ends - begins:
                    return begins + remaining
                remaining -= ends - begins
            day += timedelta(days=1)
        raise NoBusinessTime(f"no working time in {SEARCH_DAYS} days in a row from {day}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)`` (zero when ``end`` is not after ``start``)."""
        total = timedelta(0)
        if end <= start:
            return total
        day, last = self._local_day(start), self._local_day(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        while day <= last:
            for begins, ends in self.windows(day):
                overlap = min(ends, end) - max(begins, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def _local_day(self, at: datetime) -> date:
        if at.tzinfo is None:
            raise ValueError("business-time arithmetic needs aware datetimes")
        return at.astimezone(_zone(self.time_zone)).date()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    if minutes >= DAY:
        day, minutes = day + timedelta(days=1), minutes - DAY
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _windows(day: str, raw: Any, problems: list[str]) -> tuple[Window, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        problems.append(f"hours.{day}: must be a list of windows like 08:00-17:00")
        return ()
    windows: list[Window] = []
    for text in raw:
        match = _WINDOW.match(str(text).strip())
        if not match:
            problems.append(f"hours.{day}: {str(text)[:40]!r} is not a window like 08:00-17:00")
            continue
        h1, m1, h2, m2 = map(int, match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or h1 > 23 or end > DAY or start >= end:
            problems.append(f"hours.{day}: {text} must run forwards within one day (to 24:00)")
            continue
        windows.append((start, end))
    windows.sort()
    for (_s1, e1), (s2, _e2) in pairwise(windows):
        if s2 < e1:
            problems.append(f"hours.{day}: windows overlap at {_hhmm(s2)}")
    return tuple(windows)


def _holidays(raw: Any, problems: list[str]) -> tuple[set[date], set[tuple[int, int]]]:
    one_off: set[date] = set()
    yearly: set[tuple[int, int]] = set()
    if not isinstance(raw, list):
        problems.append("holidays: must be a list of dates (YYYY-MM-DD, or MM-DD every year)")
        return one_off, yearly
    for text in raw:
        text = str(text).strip()
        try:
            if match := _ONE_OFF.match(text):
                one_off.add(date(*map(int, match.groups())))
            elif match := _YEARLY.match(text):
                month, day = map(int, match.groups())
                date(2000, month, day)  # a leap year: 02-29 is a date
                yearly.add((month, day))
            else:
                raise ValueError
        except ValueError:
            problems.append(f"holidays: {text[:40]!r} is not YYYY-MM-DD or MM-DD")
    return one_off, yearly
