"""Triggers' conditions, evaluated over a ticket's values (pure: the workflow runs them);
when an idle ticket's trigger is due; what outgoing-message rules add to one recipient's mail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from statemachines.calendar import Calendar, NoBusinessTime


class Condition(Protocol):
    """A trigger's condition (``tempodesk.contracts.TriggerCondition``: this room and the
    contracts' stand side by side and do not import each other)."""

    field: str
    op: str
    value: Any


class Outgoing(Protocol):
    """An outgoing-message rule as the mail activity applies it
    (``tempodesk.contracts.OutgoingRule``)."""

    languages: list[str]
    bcc: list[str]
    signature: str


EVENTS = (
    "created",
    "customer_message",
    "state_changed",
    "assigned",
    "sla_warning",
    "idle",  # no activity for the trigger's ``hours`` of business time
    "outgoing",  # a reply or a template is about to be mailed: outgoing-message rules
)
OPS = ("is", "is_not", "contains", "in")
ACTIONS = (
    "set_priority",
    "set_field",
    "assign",
    "perform",
    "send_template",
    "add_bcc",
    "set_signature",
    "add_tag",
)
#: Actions that shape a mail being sent: the only ones an ``outgoing`` trigger may have.
MAIL_ACTIONS = ("add_bcc", "set_signature")
#: The recipient's language: a condition an ``outgoing`` trigger leaves to the mail activity
#: (which knows each recipient), with ``is`` or ``in``.
LANGUAGE = "language"
#: Whom a mail is for (``customer`` for a reply, else a template's role): an ``outgoing``
#: trigger's condition, so an archive copy can be of the customers' mail only.
RECIPIENT = "recipient"
#: What only outgoing triggers may ask.
MAIL_FIELDS = (LANGUAGE, RECIPIENT)
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


def idle_due(since: datetime, hours: int, calendar: Calendar) -> datetime | None:
    """When a ticket last active at ``since`` has been idle ``hours`` of the calendar's
    business time (None: the calendar has no working time ahead)."""
    try:
        return calendar.add(since, timedelta(hours=hours))
    except NoBusinessTime:
        return None


def mail_conditions_hold(conditions: Iterable[Condition], values: Mapping[str, Any]) -> bool:
    """An outgoing trigger's conditions on the ticket (the language is the mail's)."""
    return all(holds(c, values) for c in conditions if c.field != LANGUAGE)


def languages_of(conditions: Iterable[Condition]) -> list[str]:
    """The recipient languages an outgoing trigger is for ([]: any)."""
    found: list[str] = []
    for c in conditions:
        if c.field == LANGUAGE:
            found += [str(v) for v in c.value] if isinstance(c.value, list) else [str(c.value)]
    return found


def for_recipient(rules: Iterable[Outgoing], language: str) -> tuple[list[str], str]:
    """The BCC addresses and the signature outgoing rules give one recipient's mail: every
    rule for their language (or any) adds its BCCs; the last such rule's signature wins."""
    bcc: list[str] = []
    signature = ""
    for rule in rules:
        if rule.languages and language not in rule.languages:
            continue
        bcc += [a for a in rule.bcc if a.lower() not in (b.lower() for b in bcc)]
        signature = rule.signature or signature
    return bcc, signature
