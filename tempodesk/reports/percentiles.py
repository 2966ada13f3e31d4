"""Durations as percentiles, on either database: PostgreSQL computes them in SQL
(``percentile_cont``); SQLite has no percentile function, so its rows are read (from the
covering index, as text) and the same interpolation is computed here. Both answer the same
(tested on both). A window function ranking the durations in SQLite instead took twice as
long for a year of 100k tickets (per-row date arithmetic in SQL, a temporary sort)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Subquery, func, literal_column, select, type_coerce
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


def duration_stats(session: Session, rows: Any) -> list[DurationStats]:
    """Per key, the count and the percentiles (``PERCENTILES``) of ``ended - started`` over
    ``rows``, a select of three labelled columns: ``key``, ``started``, ``ended`` (None for a
    ticket without an end: counted, not measured). Sorted by key."""
    sub = rows.subquery()
    if session.get_bind().dialect.name == "postgresql":
        found = _postgresql(session, sub)
    else:
        found = _sqlite(session, sub)
    return sorted(found, key=lambda stats: stats.key)


def percentile(ordered: list[float], p: float) -> float | None:
    """``percentile_cont``: the value at ``p`` of sorted values, interpolated linearly
    between the two nearest ranks; None of no values."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _postgresql(session: Session, sub: Subquery) -> list[DurationStats]:
    # date_part is float8, what percentile_cont sorts anyway; extract's numeric (PostgreSQL
    # 14+) cost ~20 % more for a year of tickets, for a difference of at most the last bit.
    seconds = func.date_part("epoch", sub.c.ended - sub.c.started)
    # Every percentile from one sort: percentile_cont over an array of fractions.
    fractions: Any = literal_column(f"ARRAY[{', '.join(map(str, PERCENTILES))}]::float8[]")
    stmt = select(
        sub.c.key,
        func.count(),
        func.count(sub.c.ended),
        func.percentile_cont(fractions).within_group(seconds),
    ).group_by(sub.c.key)
    return [
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


def _sqlite(session: Session, sub: Subquery) -> list[DurationStats]:
    """SQLite: the two ends as the stored text (from the covering index; SQLAlchemy's
    datetime parsing of every row cost more than the rest), parsed and sorted here."""
    text = [type_coerce(column, String) for column in (sub.c.started, sub.c.ended)]
    grouped: dict[str, list[float]] = defaultdict(list)
    tickets: dict[str, int] = defaultdict(int)
    parse = datetime.fromisoformat
    # Core rows, not ORM ones: at a year of tickets every per-row step shows.
    for key, started, ended in session.connection().execute(select(sub.c.key, *text)):
        tickets[key] += 1
        if started is not None and ended is not None:
            try:
                span = parse(ended) - parse(started)
            except TypeError:  # one written with an offset, one without: both are UTC
                span = parse(ended).replace(tzinfo=None) - parse(started).replace(tzinfo=None)
            grouped[key].append(span.total_seconds())
    result = []
    for key, count in tickets.items():
        measured = sorted(grouped[key])
        result.append(
            DurationStats(
                key=key or "",
                tickets=count,
                ended=len(measured),
                percentiles=tuple(percentile(measured, p) for p in PERCENTILES),
            )
        )
    return result
