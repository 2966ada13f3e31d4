"""Reports as data: ``GET /reports/<name>?from=&to=&group=&channel=&process=&by=&format=``,
for admins and groups' supervisors (a supervisor reads their groups only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, request

from tempodesk.reports import export, filters, queries
from web import db, error_response
from web.api.common import ApiInvalid, api_user, bp


@bp.route("/reports/<name>", methods=["GET"])
def report(name: str) -> Any:
    """One report's rows as JSON (default) or CSV."""
    if name not in queries.REPORTS:
        return error_response(404, "not_found", "There is no such report.")
    session = db()
    scope = filters.scope_for(session, api_user())
    if scope is None:
        return error_response(403, "forbidden", "Reports are for admins and supervisors.")
    fmt = request.args.get("format", "") or "json"
    if fmt not in export.FORMATS:
        raise ApiInvalid("invalid", "Use format=json or format=csv.", fields={"format": "json|csv"})
    try:
        asked = filters.parse_filters(request.args, scope, datetime.now(UTC).date())
    except filters.FilterInvalid as exc:
        raise ApiInvalid("invalid", "A filter is not valid.", fields=exc.errors) from None
    body, media, filename = export.download(queries.run(session, name, asked, scope), asked, fmt)
    response = Response(body, mimetype=media.split(";")[0])
    response.headers["Content-Type"] = media
    if fmt == "csv":
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
