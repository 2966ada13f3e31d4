"""Durations as percentiles, on either database, computed in SQL so that a year of tickets
never travels to Python: PostgreSQL has ``percentile_cont``; SQLite has no percentile
function, so there a window function ranks each key's durations (exact whole microseconds)
and only the two ranks around each percentile are read, then interpolated here exactly as
``percentile_cont`` does. Both answer the same (tested on both)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    cast,
    func,
    literal_column,
    or_,
    select,
)
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
        found = _ranked(session, sub)
    return sorted(found, key=lambda stats: stats.key)


def percentile(ordered: list[float], p: float) -> float | None:
    """``percentile_cont``: the value at ``p`` of sorted values, interpolated linearly
    between the two nearest ranks; None of no values."""
    return _interpolate(ordered.__getitem__, len(ordered), p)


def _interpolate(value_at: Callable[[int], float], count: int, p: float) -> float | None:
    """``percentile`` of ``count`` sorted values of which ``value_at(rank)`` gives one."""
    if not count:
        return None
    rank = (count - 1) * p
    low = math.floor(rank)
    high = min(low + 1, count - 1)
    return value_at(low) + (value_at(high) - value_at(low)) * (rank - low)


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


def _ranked(session: Session, sub: Subquery) -> list[DurationStats]:
    """SQLite: each key's durations ranked by a window function (one sort), and only the
    rows a percentile interpolates between (plus each key's first, for its counts) read."""
    micros = _sqlite_micros(sub.c.started, sub.c.ended)
    window: dict[str, Any] = {
        "partition_by": sub.c.key,
        # Durations first, ascending; tickets without an end after them.
        "order_by": (micros.is_(None), micros),
        "rows": (None, None),
    }
    ranked = select(
        sub.c.key.label("key"),
        micros.label("micros"),
        (func.row_number().over(**window) - 1).label("rank"),
        func.count().over(**window).label("tickets"),
        func.count(micros).over(**window).label("ended"),
    ).subquery()
    wanted: list[ColumnElement[bool]] = [ranked.c.rank == 0]
    for p in PERCENTILES:
        # CAST truncates: floor of a rank that is never negative here, as in ``_interpolate``.
        low = cast((ranked.c.ended - 1) * p, Integer)
        wanted += [ranked.c.rank == low, ranked.c.rank == low + 1]
    stmt = select(
        ranked.c.key, ranked.c.tickets, ranked.c.ended, ranked.c.rank, ranked.c.micros
    ).where(or_(*wanted))
    counts: dict[str, tuple[int, int]] = {}
    values: dict[str, dict[int, float]] = {}
    for key, tickets, ended, rank, value in session.execute(stmt):
        counts[key or ""] = (tickets, ended)
        if value is not None:
            # Whole microseconds over 10**6, as ``timedelta.total_seconds`` gives them.
            values.setdefault(key or "", {})[rank] = value / 1e6
    return [
        DurationStats(
            key=key,
            tickets=tickets,
            ended=ended,
            percentiles=tuple(
                _interpolate(values.get(key, {}).__getitem__, ended, p) for p in PERCENTILES
            ),
        )
        for key, (tickets, ended) in counts.items()
    ]


def _sqlite_micros(started: Any, ended: Any) -> ColumnElement[int]:
    """``ended - started`` in whole microseconds, from SQLite's stored text
    (``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC; the fraction may be missing): the seconds
    by ``strftime('%s')`` of the first 19 characters, the microseconds as the digits after
    the point. SQLite's own date functions keep milliseconds only."""

    def whole(value: Any) -> Any:
        return cast(func.strftime("%s", func.substr(value, 1, 19)), Integer)

    def fraction(value: Any) -> Any:
        return cast(func.substr(value, 21, 6), Integer)

    return (whole(ended) - whole(started)) * 1_000_000 + fraction(ended) - fraction(started)
