"""A report as CSV or JSON. CSV cells a spreadsheet would read as a formula (text starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are escaped with a leading
apostrophe (OWASP's advice on CSV injection); numbers stay numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

from tempodesk.reports.filters import Filters
from tempodesk.reports.queries import Report

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet may read it without running it."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_csv(report: Report) -> str:
    """A header of column names, then a line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def as_json(report: Report, filters: Filters) -> dict[str, Any]:
    """``{"report", "filters", "columns", "rows": [{column: value}]}``."""
    return {
        "report": report.name,
        "filters": filters.as_dict(),
        "columns": list(report.columns),
        "rows": report.records(),
    }
