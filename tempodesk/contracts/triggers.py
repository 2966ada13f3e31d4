"""Triggers: admin-defined rules a ticket's workflow runs on its own events (data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TriggerCondition:
    field: str  # state, state_category, priority, group, assignee, channel, mailbox, subject,
    # or fields.<name>
    op: str = "is"  # is | is_not | contains | in
    value: Any = ""


@dataclass
class TriggerActionSpec:
    type: str  # set_priority | set_field | assign | perform | send_template | add_bcc |
    # set_signature (the last two: outgoing triggers only)
    value: Any = ""
    name: str = ""  # set_field: the field's name; send_template: to whom (default customer)


@dataclass
class TriggerSpec:
    """One trigger as the workflow runs it: on an event (created, customer_message,
    state_changed, assigned, sla_warning, idle, outgoing), when every condition holds, its
    actions in order."""

    id: int
    name: str
    on: str
    conditions: list[TriggerCondition] = field(default_factory=list)
    actions: list[TriggerActionSpec] = field(default_factory=list)
    # idle: this many hours of business time without activity, in the calendar of the
    # ticket's SLA policy, else this calendar's document ({}: around the clock).
    hours: int = 0
    calendar: dict[str, Any] = field(default_factory=dict)


@dataclass
class OutgoingRule:
    """What an outgoing trigger adds to a mail the ticket sends, for recipients of
    ``languages`` ([]: every recipient): BCC addresses and a signature (which takes the
    mailbox's place)."""

    name: str
    languages: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    signature: str = ""


@dataclass
class TriggersChangedInput:
    """A fact: the admins changed the triggers; the whole list, in order."""

    triggers: list[TriggerSpec] = field(default_factory=list)
