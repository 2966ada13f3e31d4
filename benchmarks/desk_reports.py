"""The reports section of ``make bench-desk`` (``benchmarks.desk_lists`` calls ``measure``):
every report of ``tempodesk.reports.queries`` over the seeded tickets, through the real
code with a fresh session per call like a web request, for an admin (every group) and for
a supervisor of one group (Support: the reports' group clause), over the last 30 days and
the last 365 days. The issue's target is 300 ms per report at 100k tickets: reported (in
``over_target`` and the warnings), not asserted.

On PostgreSQL each report's statements are also EXPLAINed (ANALYZE) once, to say which
indexes they used and whether a table was read whole.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.load import percentile
from tempodesk.reports import queries
from tempodesk.reports.filters import Filters, Scope

TARGET_MS = 300.0
PERIODS = {"30d": 30, "365d": 365}
SCOPES = {"admin": Scope(groups=None), "supervisor": Scope(groups=("Support",))}


def measure(
    args: argparse.Namespace, sessions: sessionmaker[Session], engine: Engine
) -> tuple[dict[str, Any], list[str]]:
    """``({"target_ms", "figures", "index_usage", "over_target"}, warnings)``."""
    today = datetime.now(UTC).date()
    figures: dict[str, Any] = {}
    for scope_name, scope in SCOPES.items():
        for period, days in PERIODS.items():
            asked = Filters(start=today - timedelta(days=days - 1), end=today)
            for name in queries.REPORTS:
                figures[f"{scope_name}.{period}.{name}"] = _time(args, sessions, name, asked, scope)
    usage = _index_usage(sessions, engine, today) if engine.dialect.name == "postgresql" else {}
    over = sorted(key for key, f in figures.items() if (f["p95_ms"] or 0) > TARGET_MS)
    warnings = [f"report {key}: p95 over {TARGET_MS:g} ms" for key in over]
    warnings += [
        f"report {name}: a sequential scan of {table}"
        for name, plan in usage.items()
        for table in plan["seq_scans"]
        if table in ("tickets", "messages")
    ]
    section = {"target_ms": TARGET_MS, "figures": figures, "index_usage": usage}
    return {**section, "over_target": over}, warnings


def _time(
    args: argparse.Namespace,
    sessions: sessionmaker[Session],
    name: str,
    asked: Filters,
    scope: Scope,
) -> dict[str, Any]:
    samples: list[float] = []
    rows = 0
    for n in range(args.warmup + args.repeats):
        started = time.perf_counter()
        with sessions() as session:
            rows = len(queries.run(session, name, asked, scope).rows)
        if n >= args.warmup:
            samples.append(time.perf_counter() - started)
    samples.sort()

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "p50_ms": ms(percentile(samples, 50)),
        "p95_ms": ms(percentile(samples, 95)),
        "max_ms": ms(samples[-1]),
        "n": len(samples),
        "rows": rows,
    }


def _index_usage(sessions: sessionmaker[Session], engine: Engine, today: Any) -> dict[str, Any]:
    """Per report (an admin, the last 30 days): the indexes its statements' plans name
    and the tables they read whole."""
    asked = Filters(start=today - timedelta(days=29), end=today)
    statements: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        statements.append((statement, params))

    usage: dict[str, Any] = {}
    for name in queries.REPORTS:
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            with sessions() as session:
                queries.run(session, name, asked, SCOPES["admin"])
        finally:
            event.remove(engine, "before_cursor_execute", record)
        indexes: set[str] = set()
        scans: set[str] = set()
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, params in list(statements):
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params)
                row = cursor.fetchone()
                plan = (
                    json.loads(row[0]) if row and isinstance(row[0], str) else row[0] if row else []
                )
                if plan:
                    _walk(plan[0]["Plan"], indexes, scans)
        finally:
            raw.close()
        usage[name] = {"indexes": sorted(indexes), "seq_scans": sorted(scans)}
    return usage


def _walk(node: dict[str, Any], indexes: set[str], scans: set[str]) -> None:
    if "Index Name" in node:
        indexes.add(node["Index Name"])
    if node.get("Node Type") == "Seq Scan":
        scans.add(node.get("Relation Name", ""))
    for child in node.get("Plans", []):
        _walk(child, indexes, scans)
