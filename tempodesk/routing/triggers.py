"""Triggers as admins keep them: checked, stored in order, and read as the data a ticket's
workflow runs (``TriggerSpec``; the workflow's side: ``workflows.ticket_triggers``).

A new ticket pins the enabled triggers when intake accepts it; a change is told to the open
tickets (the signal ``triggers_changed``, with the whole list), as SLA policies are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statemachines.definition import RECIPIENTS
from statemachines.triggers import ACTIONS, EVENTS, LANGUAGE, MAIL_ACTIONS, MAIL_FIELDS, OPS
from tempodesk.contracts import normalise_tag
from tempodesk.contracts.triggers import TriggerActionSpec, TriggerCondition, TriggerSpec
from tempodesk.core import audit
from tempodesk.core.models import BusinessCalendar, Ticket, Trigger
from tempodesk.core.models.base import utcnow
from tempodesk.people.addresses import is_valid_email

FIELDS = ("state", "state_category", "priority", "group", "assignee", "channel", "mailbox")
TEXT_FIELDS = ("subject",)
MAX_TRIGGERS = 100
MAX_PARTS = 20  # conditions, actions per trigger
MAX_IDLE_HOURS = 24 * 366
AUDITED = ("name", "position", "on", "conditions", "actions", "enabled", "hours", "calendar")


class TriggersInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def active(session: Session) -> list[TriggerSpec]:
    """The enabled triggers in their order, as a workflow runs them (an idle trigger with
    its calendar's document)."""
    rows = session.scalars(
        select(Trigger).where(Trigger.enabled.is_(True)).order_by(Trigger.position, Trigger.id)
    )
    calendars = {c.name: c.document for c in session.scalars(select(BusinessCalendar))}
    return [spec(row, calendars.get(row.calendar or "", {})) for row in rows]


def every(session: Session) -> list[Trigger]:
    return list(session.scalars(select(Trigger).order_by(Trigger.position, Trigger.id)))


def spec(row: Trigger, calendar: dict[str, Any] | None = None) -> TriggerSpec:
    return TriggerSpec(
        id=row.id,
        name=row.name,
        on=row.on,
        conditions=[TriggerCondition(**c) for c in row.conditions or []],
        actions=[TriggerActionSpec(**a) for a in row.actions or []],
        hours=row.hours or 0,
        calendar=dict(calendar or {}),
    )


def as_json(row: Trigger) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "on": row.on,
        "enabled": row.enabled,
        "conditions": list(row.conditions or []),
        "actions": list(row.actions or []),
        "hours": row.hours or 0,
        "calendar": row.calendar or "",
    }


def replace_all(session: Session, items: Any, actor: str) -> list[Trigger]:
    """Store ``items`` (a list of triggers, in order) in place of every trigger; refused
    whole (TriggersInvalid, by item index) if any is not valid. An item with the ``id`` of a
    stored trigger changes that trigger (its firings stay counted); audited as one change."""
    if not isinstance(items, list) or len(items) > MAX_TRIGGERS:
        raise TriggersInvalid({"triggers": f"A list of at most {MAX_TRIGGERS} triggers."})
    calendars = set(session.scalars(select(BusinessCalendar.name)))
    rows, errors, names = [], {}, set()
    for index, item in enumerate(items):
        try:
            row = _row(item, index, actor, calendars)
        except TriggersInvalid as exc:
            errors.update({f"{index}.{k}": v for k, v in exc.errors.items()})
            continue
        if row.name in names:
            errors[f"{index}.name"] = "Another trigger has this name."
        names.add(row.name)
        rows.append(row)
    if errors:
        raise TriggersInvalid(errors)
    before = every(session)
    was = [as_json(t) for t in before]
    wanted = {r.id for r in rows}
    for gone in [t for t in before if t.id not in wanted]:
        session.delete(gone)  # first: a trigger may take a deleted one's name
    session.flush()
    kept = {t.id: t for t in before if t.id in wanted}
    stored = []
    for row in rows:
        old = kept.pop(row.id, None) if row.id is not None else None
        if old is None:
            row.id = None  # type: ignore[assignment]  # a new trigger gets a new id
            session.add(row)
            stored.append(row)
            continue
        for name in (*AUDITED, "updated_at", "updated_by"):
            setattr(old, name, getattr(row, name))
        stored.append(old)
    session.flush()
    audit.record(
        session,
        "triggers.save",
        actor=actor,
        object_type="triggers",
        before={"triggers": was},
        after={"triggers": [as_json(r) for r in stored]},
    )
    return stored


def _row(item: Any, position: int, actor: str, calendars: set[str]) -> Trigger:
    if not isinstance(item, dict):
        raise TriggersInvalid({"trigger": "Must be an object."})
    name = item.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise TriggersInvalid({"name": "A name of at most 100 characters."})
    on = item.get("on")
    if on not in EVENTS:
        raise TriggersInvalid({"on": f"One of {', '.join(EVENTS)}."})
    hours, calendar = _idle(item, on, calendars)
    conditions = _parts(item.get("conditions", []), "conditions", _condition)
    actions = _parts(item.get("actions", []), "actions", _action)
    if not actions:
        raise TriggersInvalid({"actions": "At least one action."})
    _fits_event(on, conditions, actions)
    enabled = item.get("enabled", True)
    ident = item.get("id")
    return Trigger(
        id=ident if isinstance(ident, int) and not isinstance(ident, bool) else None,
        name=name.strip(),
        position=position,
        on=on,
        conditions=conditions,
        actions=actions,
        enabled=bool(enabled),
        hours=hours,
        calendar=calendar,
        updated_at=utcnow(),
        updated_by=actor,
    )


def _idle(item: dict[str, Any], on: str, calendars: set[str]) -> tuple[int, str]:
    """An idle trigger's hours (1 to a year's) and calendar ("" or a stored one's name)."""
    if on != "idle":
        return 0, ""
    hours, calendar = item.get("hours"), item.get("calendar") or ""
    if not isinstance(hours, int) or isinstance(hours, bool) or not 0 < hours <= MAX_IDLE_HOURS:
        raise TriggersInvalid({"hours": f"Idle for 1 to {MAX_IDLE_HOURS} business hours."})
    if calendar and calendar not in calendars:
        raise TriggersInvalid({"calendar": f"No calendar {str(calendar)[:100]!r}."})
    return hours, str(calendar)


def _fits_event(on: str, conditions: list[dict[str, Any]], actions: list[dict[str, Any]]) -> None:
    """Outgoing triggers shape mail (BCC, signature) and may ask the recipient's language and
    role; other triggers may do neither."""
    mail = [a["type"] in MAIL_ACTIONS for a in actions]
    if on == "outgoing" and not all(mail):
        raise TriggersInvalid({"actions": "An outgoing trigger adds a BCC or a signature."})
    if on != "outgoing" and any(mail):
        raise TriggersInvalid({"actions": "Only an outgoing trigger adds a BCC or a signature."})
    for i, c in enumerate(conditions):
        if c["field"] in MAIL_FIELDS and on != "outgoing":
            raise TriggersInvalid({f"conditions.{i}": "Only an outgoing trigger asks this."})
        if c["field"] == LANGUAGE and c["op"] not in ("is", "in"):
            raise TriggersInvalid({f"conditions.{i}": "The language is asked with is or in."})


def _parts(value: Any, key: str, check: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_PARTS:
        raise TriggersInvalid({key: f"A list of at most {MAX_PARTS}."})
    return [check(part, f"{key}.{i}") for i, part in enumerate(value)]


def _condition(part: Any, key: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise TriggersInvalid({key: "Must be an object."})
    field, op, value = part.get("field"), part.get("op", "is"), part.get("value", "")
    known = isinstance(field, str) and (
        field in FIELDS
        or field in TEXT_FIELDS
        or field in MAIL_FIELDS
        or (field.startswith("fields.") and len(field) > 7)
    )
    if not known:
        raise TriggersInvalid(
            {key: f"'field' is one of {', '.join(FIELDS + TEXT_FIELDS)} or fields.<name>."}
        )
    if op not in OPS:
        raise TriggersInvalid({key: f"'op' is one of {', '.join(OPS)}."})
    if not isinstance(value, (str, int, list)) or len(str(value)) > 500:
        raise TriggersInvalid({key: "'value' is a short text, a number or a list."})
    return {"field": field, "op": op, "value": value}


def _action(part: Any, key: str) -> dict[str, Any]:
    if not isinstance(part, dict) or part.get("type") not in ACTIONS:
        raise TriggersInvalid({key: f"'type' is one of {', '.join(ACTIONS)}."})
    kind, value, name = part["type"], part.get("value", ""), part.get("name", "")
    if kind == "set_priority" and value not in (1, 2, 3, 4):
        raise TriggersInvalid({key: "A priority from 1 to 4."})
    if kind == "set_field" and (not isinstance(name, str) or not name or len(name) > 64):
        raise TriggersInvalid({key: "set_field needs the field's 'name'."})
    if kind in ("assign", "perform", "send_template") and (
        not isinstance(value, str) or len(value) > 64
    ):
        raise TriggersInvalid({key: "'value' is a username, an action's or a template's id."})
    if kind == "add_bcc" and not (isinstance(value, str) and is_valid_email(value)):
        raise TriggersInvalid({key: "add_bcc needs an email address."})
    if kind == "set_signature" and (not isinstance(value, str) or not value.strip()):
        raise TriggersInvalid({key: "set_signature needs the signature's text."})
    if kind == "add_tag" and not (isinstance(value, str) and normalise_tag(value)):
        raise TriggersInvalid({key: "add_tag needs the tag as 'value'."})
    if kind == "send_template" and name not in ("", *RECIPIENTS):
        raise TriggersInvalid({key: f"'name' (to whom) is one of {', '.join(RECIPIENTS)}."})
    if not isinstance(value, (str, int)) or len(str(value)) > 500:
        raise TriggersInvalid({key: "'value' is a short text or a number."})
    return {"type": kind, "value": value, "name": name if isinstance(name, str) else ""}


def open_numbers(session: Session) -> list[str]:
    """The tickets whose workflows are running (told when the triggers change)."""
    return list(
        session.scalars(
            select(Ticket.number).where(Ticket.state_category.not_in(("closed", "merged")))
        )
    )
