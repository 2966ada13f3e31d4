"""The reports page (``/desk/reports``) for admins and groups' supervisors: a filter form,
each report as a chart with its rows, and each report's data as CSV or JSON (the same as
``GET /api/v1/reports/<name>``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from tempodesk.core.models import Group
from tempodesk.reports import export, filters, queries
from tempodesk.tickets import processes
from tempodesk.tickets.intake import CHANNELS
from web import db
from web.desk.common import bp
from web.desk.report_charts import CHANNEL_LABELS, DIMENSION_LABELS, section


def _scope() -> filters.Scope:
    scope = filters.scope_for(db(), current_user)
    if scope is None:
        abort(403)
    return scope


@bp.app_template_global()
def may_read_reports() -> bool:
    """Whether the signed-in agent sees the Reports link (an admin or a supervisor)."""
    if not current_user.is_authenticated or not hasattr(current_user, "is_admin"):
        return False
    if current_user.is_admin:
        return True
    try:
        return filters.scope_for(db(), current_user) is not None
    except DBAPIError:  # the database away: the page around says so, the link can wait
        db().rollback()
        return False


@bp.route("/reports")
def reports() -> Any:
    """Every report for the period and filters asked (the last 30 days by default)."""
    session, scope = db(), _scope()
    today = datetime.now(UTC).date()
    errors: dict[str, str] = {}
    try:
        asked = filters.parse_filters(request.args, scope, today)
    except filters.FilterInvalid as exc:
        errors = exc.errors
        asked = filters.parse_filters({}, scope, today)
    groups = scope.groups
    if groups is None:
        groups = tuple(session.scalars(select(Group.name)))
    return render_template(
        "desk/reports.html",
        asked=asked,
        errors=errors,
        sections=[section(queries.run(session, name, asked, scope)) for name in queries.REPORTS],
        groups=sorted(groups),
        channels=[(c, CHANNEL_LABELS.get(c, c)) for c in CHANNELS],
        process_names=processes.names(session),
        dimensions=DIMENSION_LABELS,
    )


@bp.route("/reports/<name>.<fmt>")
def report_download(name: str, fmt: str) -> Any:
    """One report's data as CSV or JSON, for the filters of the page."""
    if name not in queries.REPORTS or fmt not in export.FORMATS:
        abort(404)
    session, scope = db(), _scope()
    try:
        asked = filters.parse_filters(request.args, scope, datetime.now(UTC).date())
    except filters.FilterInvalid:
        abort(400)
    body, media, filename = export.download(queries.run(session, name, asked, scope), asked, fmt)
    response = Response(body)
    response.headers["Content-Type"] = media
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
