"""Admin pages for routing: the rules (each with one condition here; the API takes many),
each group's strategy, cap and re-routing timeout, and each agent's availability, working
hours and skills. The rules live in ``tempodesk.routing``."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tempodesk.core.models import BusinessCalendar, Group, User
from tempodesk.routing import store
from tempodesk.routing.rules import FIELDS, OPS, describe
from tempodesk.routing.strategies import AVAILABILITY, STRATEGIES
from web import db
from web.admin import bp
from web.i18n import gettext as _


def _number(name: str, default: int = 0) -> int:
    raw = request.form.get(name, "").strip()
    return int(raw) if raw.lstrip("-").isdigit() and len(raw) < 9 else default


def _rule_from_form() -> dict[str, Any]:
    form = request.form
    outcome: dict[str, Any] = {
        key: form.get(key, "").strip() for key in ("group", "assignee", "skill")
    }
    if form.get("priority"):
        outcome["priority"] = _number("priority")
    conditions = []
    if (form.get("field") and form.get("value", "").strip()) or form.get("op") == "is_set":
        conditions.append(
            {"field": form["field"], "op": form.get("op", ""), "value": form.get("value", "")}
        )
    return {
        "name": form.get("name", ""),
        "position": _number("position"),
        "conditions": conditions,
        "set": {k: v for k, v in outcome.items() if v not in ("", None)},
        "stop": form.get("continue") != "on",
    }


@bp.route("/routing")
def routing() -> Any:
    session = db()
    agents = list(session.scalars(select(User).where(User.is_active).order_by(User.username)))
    return render_template(
        "admin/routing.html",
        rules=store.rules(session),
        describe=describe,
        groups=store.group_settings(session),
        group_names=list(session.scalars(select(Group.name).order_by(Group.name))),
        agents=[
            (a, store.agent_routing(session, a.username), store.skills_of(session, a.username))
            for a in agents
        ],
        calendars=list(session.scalars(select(BusinessCalendar.name).order_by("name"))),
        fields=FIELDS,
        ops=OPS,
        strategies=STRATEGIES,
        availability=AVAILABILITY,
    )


@bp.route("/routing/rules", methods=["POST"])
def routing_rule_add() -> Any:
    session = db()
    try:
        store.save_rule(session, _rule_from_form(), current_user.username)
    except store.RuleProblems as exc:
        session.rollback()
        for problem in exc.problems:
            flash(problem, "error")
        return redirect(url_for("admin.routing"))
    session.commit()
    flash(_("The rule is saved."), "success")
    return redirect(url_for("admin.routing"))


@bp.route("/routing/rules/<int:rule_id>/delete", methods=["POST"])
def routing_rule_delete(rule_id: int) -> Any:
    session = db()
    store.delete_rule(session, rule_id, current_user.username)
    session.commit()
    flash(_("The rule is deleted."), "success")
    return redirect(url_for("admin.routing"))


@bp.route("/routing/groups/<name>", methods=["POST"])
def routing_group(name: str) -> Any:
    session = db()
    if session.scalar(select(Group.id).where(Group.name == name)) is None:
        return redirect(url_for("admin.routing"))
    try:
        store.set_group_routing(
            session,
            name,
            request.form.get("strategy", "manual"),
            _number("max_open"),
            _number("reroute_minutes"),
            current_user.username,
        )
    except store.RuleProblems as exc:
        session.rollback()
        flash(" ".join(exc.problems), "error")
        return redirect(url_for("admin.routing"))
    session.commit()
    flash(_("The group's routing is saved."), "success")
    return redirect(url_for("admin.routing"))


@bp.route("/routing/agents/<username>", methods=["POST"])
def routing_agent(username: str) -> Any:
    session = db()
    if session.scalar(select(User.id).where(User.username == username)) is None:
        return redirect(url_for("admin.routing"))
    try:
        store.set_availability(
            session,
            username,
            request.form.get("availability", "present"),
            request.form.get("calendar", ""),
            current_user.username,
        )
    except store.RuleProblems as exc:
        session.rollback()
        flash(" ".join(exc.problems), "error")
        return redirect(url_for("admin.routing"))
    skills = store.parse_skills(request.form.get("skills", "")[:1000])
    store.set_skills(session, username, skills, current_user.username)
    session.commit()
    flash(_("The agent's routing is saved."), "success")
    return redirect(url_for("admin.routing"))
