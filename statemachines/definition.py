"""The process definition: states, action buttons with fields and effects, and rights.

Pure and deterministic: no I/O, no clock. The same code runs in the web (to draw buttons and
check rights before sending an Update) and inside the workflow (to validate that Update), so
a rule exists in exactly one place.

A definition is a plain document (YAML on disk, JSON when pinned into a workflow); see
``processes/support.yaml`` for the default one and README.md for the format. This module
holds its vocabulary (categories, field types, effects) and its specs, which write
themselves back as that document; ``parsing`` reads a document into them (``checks`` holds
the rules across its parts) and ``formats`` reads and writes the YAML and JSON texts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .texts import Texts, document

STATE_CATEGORIES = ("new", "open", "pending", "resolved", "closed", "merged")
# A ticket in one of these waits on someone (the backlog); in these it has been resolved (the
# projection's ``resolved_at``); a merged ticket is neither.
OPEN_CATEGORIES = ("new", "open", "pending")
RESOLVED_CATEGORIES = ("resolved", "closed")
FIELD_TYPES = (
    "text",
    "longtext",
    "select",
    "multiselect",
    "checkbox",
    "number",
    "date",
    "agent",
    "group",
    "recipient",
    "priority",
)
RECIPIENTS = ("customer", "assignee", "group", "supervisor", "followers")
CALL_OUTCOMES = ("agreed", "not_reached", "no_agreement")
_ASSIGNABLE = ("agent", "group", "recipient")
_STORABLE = tuple(t for t in FIELD_TYPES if t != "longtext")


@dataclass(frozen=True)
class EffectRule:
    """What an effect type needs: field arguments (with the field types they accept),
    a template, a recipient, and optional arguments."""

    doc: str
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    template: bool = False
    recipient: bool = False
    optional: tuple[str, ...] = ()


#: The fixed, documented list of effects an action may have (README.md lists them too).
EFFECTS: dict[str, EffectRule] = {
    "send_email": EffectRule(
        "Reply to the customer by email with the text of a long-text field.",
        fields={"body_field": ("longtext",)},
    ),
    "portal_reply": EffectRule(
        "Post the reply in the customer portal only; the email (from a template) just links to it.",
        fields={"body_field": ("longtext",)},
        template=True,
    ),
    "send_template": EffectRule(
        "Send an email or SMS template to the customer, the assignee, the group, a supervisor "
        "or the followers.",
        template=True,
        recipient=True,
    ),
    "notify_followers": EffectRule(
        "Send a template to everyone following the ticket.", template=True
    ),
    "ask_rating": EffectRule(
        "Ask the customer to rate the answer (1-5): a template whose links rate it, about "
        "the assignee (else whoever pressed the action).",
        template=True,
    ),
    "add_note": EffectRule(
        "Add an internal note (agents only) from a long-text field.",
        fields={"body_field": ("longtext",)},
    ),
    "assign": EffectRule(
        "Assign to the agent or group chosen in a field.", fields={"field": _ASSIGNABLE}
    ),
    "forward": EffectRule(
        "Forward to a specialist or a group with a note for them.",
        fields={"field": _ASSIGNABLE, "note_field": ("longtext",)},
    ),
    "assign_to_me": EffectRule(
        "The agent who performs the action becomes the assignee (customers and the system "
        "never do)."
    ),
    "set_priority": EffectRule("Set the priority from a field.", fields={"field": ("priority",)}),
    "set_field": EffectRule(
        "Store a field's value on the ticket (its type or any custom field), searchable; "
        "'name' is the ticket field (the field's id by default).",
        fields={"field": _STORABLE},
        optional=("name",),
    ),
    "call_customer": EffectRule(
        "Call the customer through the PBX: the extension of whoever pressed (the assignee "
        "when the system does) rings first, then the customer's number is dialled.",
    ),
    "record_call": EffectRule(
        "Record how the ticket's latest call went ('outcome': agreed, not_reached or "
        "no_agreement), with notes from a long-text field ('notes_field'), on the timeline "
        "and on the contact's call record.",
        optional=("outcome", "notes_field"),
    ),
}
EFFECT_TYPES = tuple(EFFECTS)
STAY = "stay"
CATEGORY_COLOURS = {
    "new": "#2454d6",
    "open": "#c77700",
    "pending": "#7b4bc4",
    "resolved": "#1e7b34",
    "closed": "#6b7280",
    "merged": "#6b7280",
}
#: Categories whose SLA clocks pause unless the state says otherwise.
SLA_PAUSED_BY_DEFAULT = ("pending", "resolved", "closed", "merged")
CUSTOMER_MESSAGE = "customer_message"
PRIORITIES = {1: "Low", 2: "Normal", 3: "High", 4: "Urgent"}
TEXT_MAX = 500


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    labels: Texts = ()  # language -> label, when the definition gives several


@dataclass(frozen=True)
class FieldSpec:
    id: str
    type: str
    label: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    help: str = ""
    max_length: int = TEXT_MAX
    labels: Texts = ()


@dataclass(frozen=True)
class Effect:
    type: str
    args: Mapping[str, str] = field(default_factory=dict)

    def arg(self, name: str) -> str:
        return self.args.get(name, "")


@dataclass(frozen=True)
class ActionSpec:
    id: str
    label: str
    target: str
    fields: tuple[FieldSpec, ...] = ()
    effects: tuple[Effect, ...] = ()
    groups: tuple[str, ...] = ()  # who may perform it; empty means every agent
    confirm: str = ""
    style: str = "default"  # default | primary | danger
    any_agent: bool = False  # exempt from the process's "only the assignee acts" rule
    customers: bool = False  # customers may press it from the portal (it takes no fields)
    labels: Texts = ()  # language -> label (``label`` is the English, else the first)
    confirms: Texts = ()

    @property
    def stays(self) -> bool:
        return self.target == STAY

    def field(self, field_id: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass(frozen=True)
class Timeout:
    """Fire ``action`` (as the system) when a ticket has stayed ``after`` in the state."""

    after: str
    seconds: int
    action: str
    # Counted in business time of the ticket's calendar (its policy's, else the default).
    business: bool = False


@dataclass(frozen=True)
class StateSpec:
    id: str
    label: str
    category: str
    customer_label: str = ""
    actions: tuple[str, ...] = ()
    on_customer_message: str = STAY
    visible_to: tuple[str, ...] = ()  # groups that see tickets in it; empty means every agent
    colour: str = ""
    sla_paused: bool = False
    timeout: Timeout | None = None
    labels: Texts = ()  # language -> label (``label`` is the English, else the first)
    customer_labels: Texts = ()

    @property
    def final(self) -> bool:
        """A state without actions ends the ticket's workflow."""
        return not self.actions


@dataclass(frozen=True)
class ProcessDefinition:
    name: str
    label: str
    initial: str
    states: tuple[StateSpec, ...]
    actions: tuple[ActionSpec, ...]
    description: str = ""
    assignee_only: bool = False  # only the assignee (and admins) may act on an assigned ticket
    labels: Texts = ()
    descriptions: Texts = ()

    def state(self, state_id: str) -> StateSpec:
        for state in self.states:
            if state.id == state_id:
                return state
        raise KeyError(state_id)

    def action(self, action_id: str) -> ActionSpec | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def actions_in(self, state_id: str) -> list[ActionSpec]:
        state = self.state(state_id)
        return [a for a in (self.action(i) for i in state.actions) if a is not None]

    def target_of(self, state_id: str, action: ActionSpec) -> str:
        return state_id if action.stays else action.target

    def customer_message_target(self, state_id: str) -> str:
        state = self.state(state_id)
        if state.final or state.on_customer_message == STAY:
            return state_id
        return state.on_customer_message

    def templates_used(self) -> list[tuple[str, str]]:
        """(location, template name) of every template the actions send."""
        used = []
        for action in self.actions:
            for i, effect in enumerate(action.effects):
                if effect.arg("template"):
                    used.append(
                        (f"actions.{action.id}.effects[{i}].template", effect.arg("template"))
                    )
        return used

    def fields_set(self) -> set[str]:
        """The ticket fields that some action stores (set_field effects)."""
        names = set()
        for action in self.actions:
            for effect in action.effects:
                if effect.type == "set_field":
                    names.add(effect.arg("name") or effect.arg("field"))
        return names

    def to_document(self) -> dict[str, Any]:
        """The definition as the plain document it was read from (canonical form)."""
        doc: dict[str, Any] = {
            "name": self.name,
            "label": document(self.label, self.labels),
            "description": document(self.description, self.descriptions),
            "initial": self.initial,
        }
        if self.assignee_only:
            doc["assignee_only"] = True
        doc["states"] = {s.id: _state_document(s) for s in self.states}
        doc["actions"] = {a.id: _action_document(a) for a in self.actions}
        return doc

    def to_json(self) -> str:
        """Canonical JSON text: pinned into workflows as a string, so its order survives."""
        return json.dumps(self.to_document(), ensure_ascii=False, separators=(",", ":"))


def _state_document(state: StateSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"label": document(state.label, state.labels), "category": state.category}
    if state.customer_labels:
        doc["customer_label"] = document(state.customer_label, state.customer_labels)
    elif state.customer_label and state.customer_label != state.label:
        doc["customer_label"] = state.customer_label
    doc["actions"] = list(state.actions)
    if state.on_customer_message != STAY:
        doc["on_customer_message"] = state.on_customer_message
    if state.visible_to:
        doc["visible_to"] = list(state.visible_to)
    if state.colour and state.colour != CATEGORY_COLOURS.get(state.category):
        doc["colour"] = state.colour
    if state.sla_paused != (state.category in SLA_PAUSED_BY_DEFAULT):
        doc["sla_paused"] = state.sla_paused
    if state.timeout is not None:
        doc["timeout"] = {"after": state.timeout.after, "action": state.timeout.action}
        if state.timeout.business:
            doc["timeout"]["business"] = True
    return doc


def _action_document(action: ActionSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"label": document(action.label, action.labels), "target": action.target}
    if action.fields:
        doc["fields"] = [_field_document(f) for f in action.fields]
    if action.effects:
        doc["effects"] = [{"type": e.type, **dict(e.args)} for e in action.effects]
    if action.groups:
        doc["groups"] = list(action.groups)
    if action.confirm:
        doc["confirm"] = document(action.confirm, action.confirms)
    if action.style != "default":
        doc["style"] = action.style
    if action.any_agent:
        doc["any_agent"] = True
    if action.customers:
        doc["customers"] = True
    return doc


def _field_document(spec: FieldSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": spec.id,
        "type": spec.type,
        "label": document(spec.label, spec.labels),
    }
    if spec.required:
        doc["required"] = True
    if spec.choices:
        doc["choices"] = [
            {"value": c.value, "label": document(c.label, c.labels)} for c in spec.choices
        ]
    if spec.help:
        doc["help"] = spec.help
    if spec.max_length != TEXT_MAX:
        doc["max_length"] = spec.max_length
    return doc
