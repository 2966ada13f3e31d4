"""The audit log for admins: every admin change, sign-in and token creation with who, when,
from where and what before and after; filtered, paged, exported as CSV or JSON.

The entries are written by ``tempodesk.core.audit.record`` (through ``web.audit`` in the web)
in the same transaction as the change they describe.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import make_response, render_template, request

from tempodesk.core import audit
from web import db
from web.admin import bp

#: At most this long, each filter (the columns are longer; nobody types more).
FILTER_CHARS = 255


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _filter() -> audit.AuditFilter:
    args = {k: request.args.get(k, "").strip()[:FILTER_CHARS] for k in audit.FILTER_KEYS}
    since, until = _day(request.args.get("from", "")), _day(request.args.get("to", ""))
    if until is not None:
        until = until.replace(hour=23, minute=59, second=59)
    return audit.AuditFilter(**args, since=since, until=until)


@bp.route("/audit")
def audit_log() -> Any:
    where = _filter()
    before = request.args.get("before", type=int)
    rows = audit.entries(db(), where, before_id=before)
    return render_template(
        "admin/audit.html",
        rows=rows,
        where=where,
        args={k: v for k, v in request.args.items() if k != "before"},
        changed=audit.changed_fields,
        older=rows[-1].id if len(rows) == audit.PAGE_SIZE else None,
        as_text=lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1),
    )


@bp.route("/audit/export")
def audit_export() -> Any:
    """The filtered log (up to ``audit.EXPORT_LIMIT`` newest entries) as CSV or JSON."""
    rows = audit.entries(db(), _filter(), limit=audit.EXPORT_LIMIT)
    if request.args.get("format") == "json":
        response = make_response(json.dumps([audit.as_json(e) for e in rows], ensure_ascii=False))
        response.mimetype = "application/json"
        name = "audit-log.json"
    else:
        response = make_response(audit.csv_text(rows))
        response.mimetype = "text/csv"
        name = "audit-log.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
