"""Admin pages for service levels: calendars (hours per weekday, zone, holidays) and SLA
policies (conditions, targets, warning, actions). The rules live in ``tempodesk.sla``; a saved
change is told to the open tickets it may concern (the signal ``sla_changed``: each ticket
chooses its policy again and re-arms its clocks), never written to their rows."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from statemachines import PRIORITIES
from statemachines.calendar import WEEKDAYS
from tempodesk.core.models import BusinessCalendar, SlaPolicy
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.people.common import CustomerInvalid
from tempodesk.sla import contracts, forms
from tempodesk.sla.policies import PolicyProblems, affected_tickets, save_calendar, save_policy
from web import audit, db, runtime
from web.admin import bp
from web.i18n import gettext as _


def located(problems: list[str]) -> dict[str, str]:
    """Each problem by the field it names ("hours.mon: …" -> "hours.mon")."""
    found: dict[str, str] = {}
    for problem in problems:
        key = problem.split(":", 1)[0].split("[", 1)[0]
        found.setdefault(key, problem)
    return found


@bp.route("/sla")
def sla_index() -> Any:
    session = db()
    calendars = list(session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.name)))
    policies = list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)))
    names = {c.id: c.name for c in calendars}
    return render_template(
        "admin/sla/index.html",
        calendars=calendars,
        policies=policies,
        calendar_names=names,
        customer_types=contracts.customer_types(session),
    )


@bp.route("/sla/customer-types", methods=["POST"])
def sla_customer_type() -> Any:
    """Add a customer type to the list (or relabel one): policies and customers use it."""
    session = db()
    name = request.form.get("name", "")
    try:
        row = contracts.save_customer_type(session, name, request.form.get("label", ""))
    except CustomerInvalid:
        session.rollback()
        flash(_("A customer type's name: 1-40 lower-case letters, digits, - and _."), "error")
        return redirect(url_for("admin.sla_index"))
    after = {"name": row.name, "label": row.label}
    audit.record("customer_type.save", object_type="customer_type", object_id=row.id, after=after)
    session.commit()
    flash(_("The customer type is saved."), "success")
    return redirect(url_for("admin.sla_index"))


def _tell(numbers: list[str], reason: str) -> None:
    """Signal the open tickets concerned; say how many (or that the engine is away)."""
    try:
        ended = runtime().temporal.sla_changed(numbers, reason)
    except EngineUnavailable:
        flash(
            _("Saved, but the ticket engine is away: open tickets keep their deadlines."), "error"
        )
        return
    told = len(numbers) - len(ended)
    flash(_("Saved. %(count)s open tickets compute their deadlines again.", count=told), "success")


def _calendar_editor(
    fields: dict[str, Any], row: BusinessCalendar | None, problems: list[str], status: int = 200
) -> Any:
    return (
        render_template(
            "admin/sla/calendar.html",
            fields=fields,
            calendar=row,
            problems=problems,
            errors=located(problems),
            weekdays=WEEKDAYS,
        ),
        status,
    )


@bp.route("/sla/calendars/new", methods=["GET", "POST"])
@bp.route("/sla/calendars/<int:calendar_id>", methods=["GET", "POST"])
def sla_calendar(calendar_id: int | None = None) -> Any:
    session = db()
    row = session.get(BusinessCalendar, calendar_id) if calendar_id else None
    if calendar_id and row is None:
        abort(404)
    if request.method == "GET":
        return _calendar_editor(forms.calendar_fields(row), row, [])
    form = request.form
    hours = {day: form.get(f"hours.{day}", "") for day in WEEKDAYS}
    name, zone, holidays = form.get("name", ""), form.get("time_zone", ""), form.get("holidays", "")
    fields = {"name": name, "time_zone": zone, "hours": hours, "holidays": holidays}
    document = forms.calendar_document(zone, hours, holidays)
    before = forms.calendar_fields(row) if row else None
    try:
        saved = save_calendar(session, name, document, current_user.username, calendar_id)
    except PolicyProblems as exc:
        session.rollback()
        return _calendar_editor(fields, row, exc.problems, 422)
    session.flush()
    after = forms.calendar_fields(session.get(BusinessCalendar, saved))
    _audit("sla_calendar", saved, before, after)
    session.commit()
    if calendar_id:
        _tell(affected_tickets(session, calendar_id), f"calendar {name} changed")
    else:
        flash(_("The calendar is saved."), "success")
    return redirect(url_for("admin.sla_calendar", calendar_id=saved))


def _policy_editor(
    fields: dict[str, Any], row: SlaPolicy | None, problems: list[str], status: int = 200
) -> Any:
    calendars = db().scalars(select(BusinessCalendar.name).order_by(BusinessCalendar.name))
    return (
        render_template(
            "admin/sla/policy.html",
            fields=fields,
            policy=row,
            problems=problems,
            errors=located(problems),
            calendars=list(calendars),
            priorities=PRIORITIES,
        ),
        status,
    )


@bp.route("/sla/policies/new", methods=["GET", "POST"])
@bp.route("/sla/policies/<int:policy_id>", methods=["GET", "POST"])
def sla_policy(policy_id: int | None = None) -> Any:
    session = db()
    row = session.get(SlaPolicy, policy_id) if policy_id else None
    if policy_id and row is None:
        abort(404)
    if request.method == "GET":
        calendar = session.get(BusinessCalendar, row.calendar_id) if row else None
        return _policy_editor(forms.policy_fields(row, calendar.name if calendar else ""), row, [])
    fields: dict[str, Any] = {key: request.form.get(key, "") for key in request.form}
    fields["priority"] = request.form.getlist("priority")
    fields["targets"] = {t: request.form.get(f"targets.{t}", "") for t in forms.SLA_TARGETS}
    before = _policy_state(row)
    try:
        saved = save_policy(session, forms.policy_form(fields), current_user.username, policy_id)
    except PolicyProblems as exc:
        session.rollback()
        return _policy_editor(fields, row, exc.problems, 422)
    session.flush()
    _audit("sla_policy", saved, before, _policy_state(session.get(SlaPolicy, saved)))
    session.commit()
    _tell(affected_tickets(session), f"policy {fields.get('name', '')} changed")
    return redirect(url_for("admin.sla_policy", policy_id=saved))


def _policy_state(row: SlaPolicy | None) -> dict[str, Any] | None:
    if row is None:
        return None
    calendar = db().get(BusinessCalendar, row.calendar_id)
    return dict(forms.policy_fields(row, calendar.name if calendar else ""))


def _audit(kind: str, object_id: Any, before: Any, after: Any) -> None:
    """``<kind>.create`` or ``.update`` in the audit log, with the change."""
    verb = "create" if before is None else "update"
    audit.record(
        f"{kind}.{verb}", object_type=kind, object_id=object_id, before=before, after=after
    )
