"""Triggers as admins keep them: checked, stored in order, and read as the data a ticket's
workflow runs (``TriggerSpec``; the workflow's side: ``workflows.ticket_triggers``).

A new ticket pins the enabled triggers when intake accepts it; a change is told to the open
tickets (the signal ``triggers_changed``, with the whole list), as SLA policies are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from statemachines.definition import RECIPIENTS
from statemachines.triggers import ACTIONS, EVENTS, OPS
from tempodesk.contracts import normalise_tag
from tempodesk.contracts.triggers import TriggerActionSpec, TriggerCondition, TriggerSpec
from tempodesk.core.models import Ticket, Trigger
from tempodesk.core.models.base import utcnow

FIELDS = ("state", "state_category", "priority", "group", "assignee", "channel", "mailbox")
TEXT_FIELDS = ("subject",)
MAX_TRIGGERS = 100
MAX_PARTS = 20  # conditions, actions per trigger


class TriggersInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def active(session: Session) -> list[TriggerSpec]:
    """The enabled triggers in their order, as a workflow runs them."""
    rows = session.scalars(
        select(Trigger).where(Trigger.enabled.is_(True)).order_by(Trigger.position, Trigger.id)
    )
    return [spec(row) for row in rows]


def every(session: Session) -> list[Trigger]:
    return list(session.scalars(select(Trigger).order_by(Trigger.position, Trigger.id)))


def spec(row: Trigger) -> TriggerSpec:
    return TriggerSpec(
        id=row.id,
        name=row.name,
        on=row.on,
        conditions=[TriggerCondition(**c) for c in row.conditions or []],
        actions=[TriggerActionSpec(**a) for a in row.actions or []],
    )


def as_json(row: Trigger) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "on": row.on,
        "enabled": row.enabled,
        "conditions": list(row.conditions or []),
        "actions": list(row.actions or []),
    }


def replace_all(session: Session, items: Any, actor: str) -> list[Trigger]:
    """Store ``items`` (a list of triggers, in order) in place of every trigger; refused
    whole (TriggersInvalid, by item index) if any is not valid."""
    if not isinstance(items, list) or len(items) > MAX_TRIGGERS:
        raise TriggersInvalid({"triggers": f"A list of at most {MAX_TRIGGERS} triggers."})
    rows, errors, names = [], {}, set()
    for index, item in enumerate(items):
        try:
            row = _row(item, index, actor)
        except TriggersInvalid as exc:
            errors.update({f"{index}.{k}": v for k, v in exc.errors.items()})
            continue
        if row.name in names:
            errors[f"{index}.name"] = "Another trigger has this name."
        names.add(row.name)
        rows.append(row)
    if errors:
        raise TriggersInvalid(errors)
    session.execute(delete(Trigger))
    session.add_all(rows)
    session.flush()
    return rows


def _row(item: Any, position: int, actor: str) -> Trigger:
    if not isinstance(item, dict):
        raise TriggersInvalid({"trigger": "Must be an object."})
    name = item.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise TriggersInvalid({"name": "A name of at most 100 characters."})
    on = item.get("on")
    if on not in EVENTS:
        raise TriggersInvalid({"on": f"One of {', '.join(EVENTS)}."})
    conditions = _parts(item.get("conditions", []), "conditions", _condition)
    actions = _parts(item.get("actions", []), "actions", _action)
    if not actions:
        raise TriggersInvalid({"actions": "At least one action."})
    enabled = item.get("enabled", True)
    return Trigger(
        name=name.strip(),
        position=position,
        on=on,
        conditions=conditions,
        actions=actions,
        enabled=bool(enabled),
        updated_at=utcnow(),
        updated_by=actor,
    )


def _parts(value: Any, key: str, check: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_PARTS:
        raise TriggersInvalid({key: f"A list of at most {MAX_PARTS}."})
    return [check(part, f"{key}.{i}") for i, part in enumerate(value)]


def _condition(part: Any, key: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise TriggersInvalid({key: "Must be an object."})
    field, op, value = part.get("field"), part.get("op", "is"), part.get("value", "")
    known = isinstance(field, str) and (
        field in FIELDS or field in TEXT_FIELDS or (field.startswith("fields.") and len(field) > 7)
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
