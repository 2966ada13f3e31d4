"""Durations in definitions (a state's timeout): "90s", "30m", "12h", "7d", "2w"."""

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
