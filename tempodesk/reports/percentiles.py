"""Durations as percentiles, on either database: PostgreSQL computes them in SQL
(``percentile_cont``); SQLite has no percentile function, so its rows are read and the same
interpolation is computed here. One function, so both answer the same."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, extract, func, literal_column, select
from sqlalchemy.orm import Session

#: The percentiles every duration report gives.
PERCENTILES = (0.5, 0.9)


@dataclass(frozen=True)
class DurationStats:
    """One row of a duration report: how many tickets, how many have an end (answered,
    resolved) and the percentiles of their durations in seconds (None: no end yet)."""

    key: str
    tickets: int
    ended: int
    percentiles: tuple[float | None, ...]


def duration_stats(session: Session, rows: Select[Any]) -> list[DurationStats]:
    """Per key, the count and the percentiles (``PERCENTILES``) of ``ended - started`` over
    ``rows``, a select of three labelled columns: ``key``, ``started``, ``ended`` (None for a
    ticket without an end: counted, not measured). Sorted by key."""
    sub = rows.subquery()
    if session.get_bind().dialect.name == "postgresql":
        seconds = extract("epoch", sub.c.ended - sub.c.started)
        # Every percentile from one sort: percentile_cont over an array of fractions.
        fractions: Any = literal_column(f"ARRAY[{', '.join(map(str, PERCENTILES))}]::float8[]")
        stmt = select(
            sub.c.key,
            func.count(),
            func.count(sub.c.ended),
            func.percentile_cont(fractions).within_group(seconds),
        ).group_by(sub.c.key)
        found = [
            DurationStats(
                key=key or "",
                tickets=tickets,
                ended=ended,
                percentiles=tuple(
                    None if v is None else float(v) for v in (values or [None] * len(PERCENTILES))
                ),
            )
            for key, tickets, ended, values in session.execute(stmt)
        ]
        return sorted(found, key=lambda stats: stats.key)
    grouped: dict[str, list[float | None]] = defaultdict(list)
    for key, started, ended in session.execute(select(sub.c.key, sub.c.started, sub.c.ended)):
        grouped[key or ""].append(_seconds(started, ended))
    result = []
    for key in sorted(grouped):
        measured = sorted(v for v in grouped[key] if v is not None)
        result.append(
            DurationStats(
                key=key,
                tickets=len(grouped[key]),
                ended=len(measured),
                percentiles=tuple(percentile(measured, p) for p in PERCENTILES),
            )
        )
    return result


def percentile(ordered: list[float], p: float) -> float | None:
    """``percentile_cont``: the value at ``p`` of sorted values, interpolated linearly
    between the two nearest ranks; None of no values."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _seconds(started: datetime | None, ended: datetime | None) -> float | None:
    if started is None or ended is None:
        return None
    # SQLite gives naive datetimes (stored in UTC): compare them alike.
    return (ended.replace(tzinfo=None) - started.replace(tzinfo=None)).total_seconds()
