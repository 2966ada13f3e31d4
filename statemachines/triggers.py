"""Triggers' conditions, evaluated over a ticket's values (pure: the workflow runs them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Condition(Protocol):
    """A trigger's condition (``tempodesk.contracts.TriggerCondition``: this room and the
    contracts' stand side by side and do not import each other)."""

    field: str
    op: str
    value: Any


EVENTS = ("created", "customer_message", "state_changed", "assigned", "sla_warning")
OPS = ("is", "is_not", "contains", "in")
ACTIONS = ("set_priority", "set_field", "assign", "perform", "send_template", "add_tag")
#: A trigger's action may cause another event (a process action moves the state): followed
#: this deep, no deeper, so triggers that answer each other stop.
MAX_DEPTH = 2
#: At most this many firings per ticket and hour (a rate: a loop through customers' mail).
MAX_PER_HOUR = 20


def ticket_values(ticket: Any) -> dict[str, Any]:
    """What conditions may name, from a ``TicketSnapshot``."""
    values = {
        "state": ticket.state,
        "state_category": ticket.state_category,
        "priority": ticket.priority,
        "group": ticket.group or "",
        "assignee": ticket.assignee or "",
        "channel": ticket.channel,
        "mailbox": ticket.mailbox,
        "subject": ticket.subject,
    }
    values.update({f"fields.{k}": v for k, v in (ticket.fields or {}).items()})
    return values


def holds(condition: Condition, values: Mapping[str, Any]) -> bool:
    have = values.get(condition.field)
    want = condition.value
    if condition.op == "is":
        return str(have) == str(want)
    if condition.op == "is_not":
        return str(have) != str(want)
    if condition.op == "contains":
        return str(want).casefold() in str(have or "").casefold()
    if condition.op == "in":
        return isinstance(want, list) and str(have) in [str(w) for w in want]
    return False
