"""A report as CSV or JSON. CSV cells a spreadsheet would read as a formula (text starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are escaped with a leading
apostrophe (OWASP's advice on CSV injection); numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
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


#: The formats a report downloads in, with their media types.
FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def download(report: Report, filters: Filters, fmt: str) -> tuple[str, str, str]:
    """The body, media type and file name of ``report`` in ``fmt`` (a key of ``FORMATS``)."""
    name = f"{report.name}_{filters.start.isoformat()}_{filters.end.isoformat()}.{fmt}"
    if fmt == "csv":
        return as_csv(report), FORMATS["csv"], name
    return json.dumps(as_json(report, filters), ensure_ascii=False), FORMATS["json"], name
