"""Admin pages for triggers: the list in order (move, enable or disable, delete), a trigger's
form (its event, conditions and actions, with the fields each needs) and the quick form of a
mailbox's auto-reply. Every change saves the whole list through
``tempodesk.routing.triggers.replace_all`` (the API's checks, audited) and tells the open
tickets, as ``PUT /api/v1/triggers`` does."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from statemachines.definition import RECIPIENTS
from statemachines.triggers import ACTIONS, EVENTS, MAIL_FIELDS, OPS
from tempodesk.core.models import BusinessCalendar, Channel
from tempodesk.messaging import templates
from tempodesk.routing import triggers
from web import db
from web.admin import bp
from web.api.triggers import commit_and_tell
from web.i18n import gettext as _

#: Blank rows the form offers beyond a trigger's own conditions and actions.
SPARE_ROWS = 2
CONDITION_FIELDS = (*triggers.FIELDS, *triggers.TEXT_FIELDS, *MAIL_FIELDS)


def _labels() -> dict[str, str]:
    """What the pages call the events and actions (in the reader's language)."""
    return {
        "created": _("A ticket is created"),
        "customer_message": _("The customer writes"),
        "state_changed": _("The state changes"),
        "assigned": _("The ticket is assigned"),
        "sla_warning": _("An SLA warning"),
        "idle": _("Idle for business hours"),
        "outgoing": _("A mail is sent (outgoing rule)"),
        "set_priority": _("Set the priority (1-4)"),
        "set_field": _("Set a field (name, value)"),
        "assign": _("Assign to (username)"),
        "perform": _("Perform a process action (its id)"),
        "send_template": _("Send a template (to whom, template)"),
        "add_bcc": _("Add a BCC (address)"),
        "set_signature": _("Set the signature (text)"),
    }


def _stored() -> list[dict[str, Any]]:
    return [triggers.as_json(t) for t in triggers.every(db())]


def _save(items: list[dict[str, Any]]) -> dict[str, str] | None:
    """Store the list (audited) and tell the open tickets; the problems by index, or None."""
    session = db()
    try:
        triggers.replace_all(session, items, current_user.username)
    except triggers.TriggersInvalid as exc:
        session.rollback()
        return exc.errors
    if not commit_and_tell(session):
        flash(_("Saved; running tickets learn it once the engine is back."), "error")
    return None


def _value(raw: str, op: str = "") -> Any:
    """A form's text as the value a condition or an action keeps (a list for ``in``, a
    number for a number)."""
    text = raw.strip()
    if op == "in":
        return [part.strip() for part in text.split(",") if part.strip()]
    return int(text) if text.isdigit() and len(text) < 9 else text


def _rows(name: str) -> int:
    """How many rows of conditions or actions the form sent (bounded like the store)."""
    raw = request.form.get(name, "")
    return min(int(raw), triggers.MAX_PARTS + SPARE_ROWS) if raw.isdigit() and len(raw) < 4 else 0


def _from_form(ident: int | None) -> dict[str, Any]:
    form = request.form
    conditions = [
        {
            "field": form.get(f"cond_field_{i}", "").strip(),
            "op": form.get(f"cond_op_{i}", "is"),
            "value": _value(form.get(f"cond_value_{i}", ""), form.get(f"cond_op_{i}", "")),
        }
        for i in range(_rows("cond_rows"))
        if form.get(f"cond_field_{i}", "").strip()
    ]
    actions = [
        {
            "type": form.get(f"act_type_{i}", ""),
            "name": form.get(f"act_name_{i}", "").strip(),
            "value": _value(form.get(f"act_value_{i}", "")),
        }
        for i in range(_rows("act_rows"))
        if form.get(f"act_type_{i}", "")
    ]
    item: dict[str, Any] = {
        "name": form.get("name", ""),
        "on": form.get("on", ""),
        "enabled": form.get("enabled") == "on",
        "conditions": conditions,
        "actions": actions,
        "hours": _value(form.get("hours", "")) if form.get("on") == "idle" else 0,
        "calendar": form.get("calendar", ""),
    }
    if ident is not None:
        item["id"] = ident
    return item


def _page(item: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    session = db()
    return (
        render_template(
            "admin/triggers/edit.html",
            item=item,
            errors=errors,
            events=EVENTS,
            ops=OPS,
            fields=CONDITION_FIELDS,
            actions=ACTIONS,
            recipients=RECIPIENTS,
            calendars=list(session.scalars(select(BusinessCalendar.name).order_by("name"))),
            template_names=[t.name for t in templates.all_templates(session)],
            cond_rows=len(item["conditions"]) + SPARE_ROWS,
            act_rows=len(item["actions"]) + SPARE_ROWS,
            labels=_labels(),
        ),
        status,
    )


def _index_of(items: list[dict[str, Any]], ident: int) -> int:
    for index, item in enumerate(items):
        if item["id"] == ident:
            return index
    abort(404)


def _errors_of(errors: dict[str, str], index: int) -> dict[str, str]:
    """The problems of one item, by its own keys (``name``, ``conditions.0``)."""
    prefix = f"{index}."
    mine = {k[len(prefix) :]: v for k, v in errors.items() if k.startswith(prefix)}
    return mine or {"trigger": "; ".join(errors.values())}


@bp.route("/triggers")
def triggers_list() -> Any:
    session = db()
    mailboxes = session.scalars(select(Channel.name).where(Channel.kind == "email"))
    return render_template(
        "admin/triggers/list.html",
        items=_stored(),
        labels=_labels(),
        mailboxes=sorted(mailboxes),
        template_names=[t.name for t in templates.all_templates(session)],
    )


@bp.route("/triggers/new", methods=["GET", "POST"])
def triggers_new() -> Any:
    if request.method == "GET":
        blank = {"name": "", "on": "created", "enabled": True, "conditions": [], "actions": []}
        return _page({**blank, "hours": 0, "calendar": ""}, {})
    item = _from_form(None)
    items = [*_stored(), item]
    errors = _save(items)
    if errors:
        return _page(item, _errors_of(errors, len(items) - 1), 422)
    flash(_("The trigger is saved."), "success")
    return redirect(url_for("admin.triggers_list"))


@bp.route("/triggers/<int:ident>", methods=["GET", "POST"])
def triggers_edit(ident: int) -> Any:
    items = _stored()
    index = _index_of(items, ident)
    if request.method == "GET":
        return _page(items[index], {})
    items[index] = _from_form(ident)
    errors = _save(items)
    if errors:
        return _page(items[index], _errors_of(errors, index), 422)
    flash(_("The trigger is saved."), "success")
    return redirect(url_for("admin.triggers_list"))


def _changed(items: list[dict[str, Any]], done: str) -> Any:
    errors = _save(items)
    if errors:
        flash("; ".join(f"{k}: {v}" for k, v in errors.items()), "error")
    else:
        flash(done, "success")
    return redirect(url_for("admin.triggers_list"))


@bp.route("/triggers/<int:ident>/move", methods=["POST"])
def triggers_move(ident: int) -> Any:
    items = _stored()
    index = _index_of(items, ident)
    other = index - 1 if request.form.get("direction") == "up" else index + 1
    if not 0 <= other < len(items):
        return redirect(url_for("admin.triggers_list"))
    items[index], items[other] = items[other], items[index]
    return _changed(items, _("The order is saved."))


@bp.route("/triggers/<int:ident>/toggle", methods=["POST"])
def triggers_toggle(ident: int) -> Any:
    items = _stored()
    index = _index_of(items, ident)
    items[index]["enabled"] = not items[index]["enabled"]
    if items[index]["enabled"]:
        return _changed(items, _("The trigger is enabled."))
    return _changed(items, _("The trigger is disabled."))


@bp.route("/triggers/<int:ident>/delete", methods=["POST"])
def triggers_delete(ident: int) -> Any:
    items = _stored()
    del items[_index_of(items, ident)]
    return _changed(items, _("The trigger is deleted."))


@bp.route("/triggers/auto-reply", methods=["POST"])
def triggers_auto_reply() -> Any:
    """A mailbox's auto-reply: on a new ticket from the mailbox, send the template to the
    customer (an auto-reply: never to automatic mail, one per sender per window)."""
    form = request.form
    mailbox, template = form.get("mailbox", "").strip(), form.get("template", "").strip()
    item = {
        "name": form.get("name", "").strip() or f"Auto-reply: {mailbox}"[:100],
        "on": "created",
        "enabled": True,
        "conditions": [{"field": "mailbox", "op": "is", "value": mailbox}],
        "actions": [{"type": "send_template", "name": "customer", "value": template}],
    }
    if not mailbox or not template:
        flash(_("Choose a mailbox and a template."), "error")
        return redirect(url_for("admin.triggers_list"))
    return _changed([*_stored(), item], _("The auto-reply is saved."))
