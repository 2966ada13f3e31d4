"""The reports' part of the OpenAPI description (``web.api.openapi`` adds it to the whole):
kept beside the reports so the description of the API stays one module under its size."""

from __future__ import annotations

from typing import Any

from tempodesk.reports.filters import DIMENSIONS, MAX_DAYS
from tempodesk.reports.queries import REPORTS


def _text(description: str = "", **more: Any) -> dict[str, Any]:
    return {"type": "string", **({"description": description} if description else {}), **more}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


SCHEMAS: dict[str, Any] = {
    "Report": {
        "type": "object",
        "properties": {
            "report": _text("The report's name."),
            "filters": {
                "type": "object",
                "properties": {
                    name: _text() for name in ("from", "to", "group", "channel", "process", "by")
                },
            },
            "columns": {"type": "array", "items": _text()},
            "rows": {
                "type": "array",
                "items": {"type": "object", "description": "A value per column."},
            },
        },
        "required": ["report", "filters", "columns", "rows"],
    }
}

PARAMETERS = [
    {"name": "name", "in": "path", "required": True, "schema": _text(enum=list(REPORTS))},
    {
        "name": "from",
        "in": "query",
        "description": "First day, YYYY-MM-DD (UTC); default: 29 days before `to`.",
        "schema": _text(format="date"),
    },
    {
        "name": "to",
        "in": "query",
        "description": f"Last day, YYYY-MM-DD, included; default: today. At most {MAX_DAYS} days.",
        "schema": _text(format="date"),
    },
    {"name": "group", "in": "query", "schema": _text(maxLength=64)},
    {"name": "channel", "in": "query", "schema": _text(maxLength=64)},
    {"name": "process", "in": "query", "schema": _text(maxLength=64)},
    {
        "name": "by",
        "in": "query",
        "description": "What durations and ratings are broken down by.",
        "schema": _text(enum=list(DIMENSIONS)),
    },
    {"name": "format", "in": "query", "schema": _text(enum=["json", "csv"])},
]

#: The operation ``GET /reports/{name}``: ``web.api.openapi`` adds the errors every operation
#: may meet (``_operation(**OPERATION)``).
OPERATION: dict[str, Any] = {
    "summary": "A report's rows (admins; a group's supervisor for their groups): "
    + ", ".join(REPORTS)
    + ". CSV cells that would start a formula are escaped with an apostrophe.",
    "answers": {
        "200": {
            "description": "The report.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
                "text/csv": {"schema": _text("A header line, then a line per row.")},
            },
        },
        "400": _error("A filter is not valid (`fields` names it)."),
        "403": _error("Reports are for admins and groups' supervisors."),
        "404": _error("No such report."),
    },
    "operationId": "getReport",
    "parameters": PARAMETERS,
}
