"""What an action's effects do to a ticket, as data: a table from effect type to a pure function.

``apply_effects`` takes the ticket as it is and the action's checked values and returns the
outcome: the ticket as it will be, the stored messages to put on the timeline, the mail to
queue, and what the timeline event records. Nothing here waits, sends or writes: the
workflow runs the outcome (queues the mail, records the event, projects). Deterministic, so
the workflow imports it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from statemachines import ActionSpec, public_field_values
    from tempodesk.contracts import MessageLink, OutboundMail, TicketSnapshot


@dataclass(frozen=True)
class Pressed:
    """One press of an action button: the action, its checked values, who, and the event's
    sequence number (mail queued by it refers to that event)."""

    action: ActionSpec
    values: dict[str, Any]
    actor: str
    seq: int
    actor_kind: str = "agent"  # agent | system | customer
    sms_to: str = ""  # the reply goes as an SMS to this number instead of by email


@dataclass
class Outcome:
    """What the effects of one press produce."""

    ticket: TicketSnapshot
    links: list[MessageLink] = field(default_factory=list)
    outbox: list[OutboundMail] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, other: Outcome) -> Outcome:
        """This outcome followed by ``other`` (which started from this one's ticket)."""
        return Outcome(
            ticket=other.ticket,
            links=self.links + other.links,
            outbox=self.outbox + other.outbox,
            message_ids=self.message_ids + other.message_ids,
            data=_merge(self.data, other.data),
        )


Effect = Callable[[TicketSnapshot, Pressed, int, Mapping[str, Any]], Outcome]


def apply_effects(ticket: TicketSnapshot, pressed: Pressed) -> Outcome:
    """Every effect of the action in order, each seeing the ticket as the previous left it."""
    outcome = Outcome(ticket=ticket)
    for index, effect in enumerate(pressed.action.effects):
        outcome = outcome.add(EFFECTS[effect.type](outcome.ticket, pressed, index, effect.args))
    return outcome


def _send_email(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    """Reply by email: the stored text goes on the timeline now and into the outbox."""
    message_id = pressed.values.get(args["body_field"])
    if message_id is None:
        return Outcome(ticket)
    to = ticket.customer_email
    if pressed.sms_to:  # the agent chose SMS: the same outbox, the telephony queue
        link = _link(pressed, message_id, "sms", recipient=pressed.sms_to, delivery_status="queued")
        sms = OutboundMail(
            message_id, pressed.seq, to=pressed.sms_to, author=pressed.actor, kind="sms"
        )
        return Outcome(ticket, links=[link], outbox=[sms], message_ids=[message_id])
    link = _link(pressed, message_id, "email", recipient=to, delivery_status="queued")
    mail = OutboundMail(message_id, pressed.seq, to=to, author=pressed.actor)
    return Outcome(ticket, links=[link], outbox=[mail], message_ids=[message_id])


def _portal_reply(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    """The reply lives in the portal; the customer's email (a template) only links to it."""
    message_id = pressed.values.get(args["body_field"])
    if message_id is None:
        return Outcome(ticket)
    mail = _template(pressed, index, args["template"], "customer", message_id)
    link = _link(pressed, message_id, "portal")
    return Outcome(ticket, links=[link], outbox=[mail], message_ids=[message_id])


def _send_template(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    to_role = args.get("to", "followers")
    return Outcome(ticket, outbox=[_template(pressed, index, args["template"], to_role, None)])


def _ask_rating(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    """Ask the customer to rate the answer: this event is the one rated, about the assignee
    (else whoever answered); the template's links carry both (signed)."""
    agent = ticket.assignee or pressed.actor
    asked = replace(ticket, rating_asked_seq=pressed.seq, rating_agent=agent)
    mail = _template(pressed, index, args["template"], "customer", None)
    return Outcome(asked, outbox=[mail], data={"rating_asked": agent})


def _add_note(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    return _note(ticket, pressed, args["body_field"])


def _forward(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    """Assign to a specialist or a group, with a note for them if the action has one."""
    assigned = _assign(ticket, pressed, index, args)
    if not args.get("note_field"):
        return assigned
    return assigned.add(_note(assigned.ticket, pressed, args["note_field"]))


def _assign(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    value = pressed.values.get(args["field"])
    spec = pressed.action.field(args["field"])
    if value is None or spec is None:
        return Outcome(ticket)
    if spec.type == "recipient":
        kind, _, name = value.partition(":")
    else:
        kind, name = ("group" if spec.type == "group" else "user"), value
    if kind == "group":
        # Forwarded to a group's queue: whoever in the group takes it next.
        return Outcome(replace(ticket, group=name, assignee=None), data={"group": name})
    return Outcome(replace(ticket, assignee=name), data={"assignee": name})


def _assign_to_me(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    """Whoever pressed takes the ticket, if they are an agent."""
    if pressed.actor_kind != "agent" or not pressed.actor or pressed.actor == ticket.assignee:
        return Outcome(ticket)
    return Outcome(replace(ticket, assignee=pressed.actor), data={"assignee": pressed.actor})


def _set_priority(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    value = pressed.values.get(args["field"])
    if value is None:
        return Outcome(ticket)
    priority = int(value)
    return Outcome(replace(ticket, priority=priority), data={"priority": priority})


def _set_field(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    """Store the value on the ticket under its name (searchable as ``field.<name>``)."""
    value = pressed.values.get(args["field"])
    if value is None:
        return Outcome(ticket)
    name = args.get("name") or args["field"]
    return Outcome(
        replace(ticket, fields={**ticket.fields, name: value}), data={"set": {name: value}}
    )


def _call_customer(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    """Queue a click-to-call (``workflows.calls`` places it, once, keyed by this event)."""
    call = OutboundMail(
        message_id=0,
        event_seq=pressed.seq,
        to="",
        author=pressed.actor,
        kind="call",
        effect_index=index,
        action_id=pressed.action.id,
    )
    return Outcome(ticket, outbox=[call], data={"call": "requested"})


def _record_call(
    ticket: TicketSnapshot, pressed: Pressed, index: int, args: Mapping[str, Any]
) -> Outcome:
    """How the latest call went: the event says it (the projection puts it on the call's
    record too); notes, if any, go on the timeline as an internal note."""
    outcome = Outcome(ticket, data={"call_outcome": args.get("outcome", "")})
    notes_field = args.get("notes_field")
    if notes_field:
        outcome = outcome.add(_note(ticket, pressed, notes_field))
    return outcome


def _note(ticket: TicketSnapshot, pressed: Pressed, field_id: str) -> Outcome:
    message_id = pressed.values.get(field_id)
    if message_id is None:
        return Outcome(ticket)
    link = _link(pressed, message_id, "note", internal=True)
    return Outcome(ticket, links=[link], message_ids=[message_id])


def _link(
    pressed: Pressed, message_id: int, channel: str, *, internal: bool = False, **more: Any
) -> MessageLink:
    """An agent's stored text put on the timeline as what the effect makes of it."""
    return MessageLink(
        message_id=message_id,
        channel=channel,
        sender_role="agent",
        internal=internal,
        author=pressed.actor,
        **more,
    )


def _template(
    pressed: Pressed, index: int, template: str, to_role: str, message_id: int | None
) -> OutboundMail:
    return OutboundMail(
        message_id=message_id or 0,
        event_seq=pressed.seq,
        to="",
        author=pressed.actor,
        kind="template",
        template=template,
        to_role=to_role,
        effect_index=index,
        action_id=pressed.action.id,
        action_label=pressed.action.label,
        fields=public_field_values(pressed.action, pressed.values),
    )


def _merge(first: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    """Event data of two effects: later values win; ``set`` maps are merged."""
    merged = {**first, **then}
    if "set" in first and "set" in then:
        merged["set"] = {**first["set"], **then["set"]}
    return merged


#: Every effect type of ``statemachines.EFFECTS`` and what it does.
EFFECTS: dict[str, Effect] = {
    "send_email": _send_email,
    "portal_reply": _portal_reply,
    "send_template": _send_template,
    "notify_followers": _send_template,
    "ask_rating": _ask_rating,
    "add_note": _add_note,
    "forward": _forward,
    "assign": _assign,
    "assign_to_me": _assign_to_me,
    "set_priority": _set_priority,
    "set_field": _set_field,
    "call_customer": _call_customer,
    "record_call": _record_call,
}
