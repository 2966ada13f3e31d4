"""Durations in definitions (a state's timeout): "90s", "30m", "12h", "7d", "2w"; in wall-clock
time, or (``business: true``) in business time of a calendar."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int | None:
    """Seconds in "90s", "30m", "12h", "7d" or "2w"; None if it is not such a duration."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def business_duration(text: str, working_day_seconds: float) -> int | None:
    """Seconds of business time in a timeout's duration: ``s``, ``m`` and ``h`` of working
    time; ``d`` one working day of the calendar (``working_day_seconds``), ``w`` five."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        return None
    count, unit = int(match.group(1)), match.group(2)
    if unit in "dw":
        return int(count * working_day_seconds * (5 if unit == "w" else 1))
    return count * _UNIT_SECONDS[unit]
