"""Who may see a state and perform an action, and whether an action's fields are valid.

Used by the web before it sends an Update and by the workflow's Update validator, which is
the authority: the web's check only spares the agent a round trip. Both ask ``check_action``,
which answers with the action or a coded ``Rejection``: the workflow puts the code and its
parameters in its error, and the web shows the text for that code in the agent's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from .definition import PRIORITIES, ActionSpec, FieldSpec, ProcessDefinition
from .rights import ACT, SEE_ALL_QUEUES, holds

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ActorLike(Protocol):
    @property
    def username(self) -> str: ...
    @property
    def groups(self) -> Sequence[str]: ...
    @property
    def is_admin(self) -> bool: ...


#: English texts of the rejections (history, logs and the API say these; the web translates
#: by code: web/i18n/texts.py lists the same texts as msgids). ``%(name)s`` takes
#: ``Rejection.params``.
REJECTION_TEXTS = {
    "not_ready": "The ticket is still being created; try again in a moment.",
    "state_changed": (
        "The ticket has meanwhile moved to '%(state)s'; reload it to see what changed."
    ),
    "not_available": "The action '%(action)s' is not available while the ticket is '%(state)s'.",
    "forbidden": "You may not '%(action)s' tickets in state '%(state)s'.",
    "assignee_only": (
        "You may not '%(action)s' tickets in state '%(state)s'. Only %(assignee)s, the "
        "assignee, may act on this ticket."
    ),
    "no_customer_email": "This customer has no email address to reply to.",
    "invalid_fields": "Some fields are not filled in correctly.",
    "closed": "This ticket is closed; it takes no more actions.",
    "read_only": "Your role lets you read tickets, not act on them.",
    "children_open": (
        "This ticket waits for its child tickets to be resolved first: %(children)s."
    ),
}
#: The broad kind of each rejection: the REST API's error code (and HTTP status) and the
#: type of the workflow's error (kept as they were before codes, for old histories).
REJECTION_KINDS = {
    "not_ready": "not_ready",
    "state_changed": "state_changed",
    "not_available": "not_available",
    "forbidden": "forbidden",
    "assignee_only": "forbidden",
    "no_customer_email": "not_available",
    "invalid_fields": "invalid_fields",
    "closed": "closed",
    "read_only": "forbidden",
    "children_open": "not_available",
}
#: The effects that write to the customer by email: a customer without an address has none.
EMAILS_CUSTOMER = frozenset({"send_email", "portal_reply"})


#: The type of the workflow's error per kind of rejection (as before rejections had codes).
REJECTION_TYPES = {
    "not_ready": "NotReady",
    "state_changed": "StateChanged",
    "not_available": "ActionNotAvailable",
    "forbidden": "ActionForbidden",
    "invalid_fields": "InvalidFields",
}


@dataclass(frozen=True)
class Rejection:
    """Why an action is refused: a code from ``REJECTION_TEXTS``, the values of its text, and
    for ``invalid_fields`` the problem of each field. ``text``: the English text as a worker
    older than these codes sent it (then ``params`` are unknown)."""

    code: str
    params: dict[str, str] = field(default_factory=dict)
    field_errors: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def message(self) -> str:
        """The English text (history, logs, the API)."""
        return self.text or REJECTION_TEXTS[self.code] % self.params

    @property
    def kind(self) -> str:
        return REJECTION_KINDS[self.code]

    def as_details(self) -> dict[str, Any]:
        """What the workflow's error carries, for the caller to rebuild it (``from_details``)."""
        return {"code": self.code, "params": self.params, "fields": self.field_errors}

    @classmethod
    def from_details(cls, details: Any) -> Rejection | None:
        if not isinstance(details, dict) or details.get("code") not in REJECTION_TEXTS:
            return None
        params = details.get("params") or {}
        fields = details.get("fields") or {}
        return cls(
            str(details["code"]),
            {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {},
            {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {},
        )


def check_action(
    definition: ProcessDefinition,
    state_id: str,
    action_id: str,
    actor: ActorLike,
    *,
    assignee: str | None,
    customer_email: str,
    expected_state: str | None = None,
    ready: bool = True,
    contact_id: int | None = None,
) -> ActionSpec | Rejection:
    """The action, if this actor may press it on a ticket in this state now; else why not.

    The fields are checked apart (``clean_fields``): the web holds texts, the workflow the
    ids of their stored messages."""
    if not ready:
        return Rejection("not_ready")
    state = definition.state(state_id)
    if expected_state is not None and expected_state != state.id:
        return Rejection("state_changed", {"state": state.label})
    action = definition.action(action_id)
    if action is None or action not in definition.actions_in(state.id):
        return Rejection("not_available", {"action": action_id, "state": state.label})
    where = {"action": action.label, "state": state.label}
    kind = getattr(actor, "kind", "agent")
    if kind == "agent" and not holds(actor, ACT):
        return Rejection("read_only", where)
    if kind == "customer":
        # A customer presses only what the process marks for customers, and only on their
        # own request; groups, visibility and assignees are the agents' rules.
        if not action.customers or not _their_request(actor, customer_email, contact_id):
            return Rejection("forbidden", where)
    elif kind not in ("agent", "system") or not may_perform(
        definition, state.id, action, actor, assignee
    ):
        if (
            definition.assignee_only
            and assignee
            and kind in ("agent", "system")
            and may_perform(definition, state.id, action, actor)
        ):
            return Rejection("assignee_only", {**where, "assignee": assignee})
        return Rejection("forbidden", where)
    if any(e.type in EMAILS_CUSTOMER for e in action.effects) and not customer_email:
        return Rejection("no_customer_email")
    return action


def _their_request(actor: ActorLike, customer_email: str, contact_id: int | None) -> bool:
    """The customer's own request: linked to their contact, or sent from their address."""
    own = getattr(actor, "contact_id", None)
    if own is not None and own == contact_id:
        return True
    return bool(customer_email) and actor.username.strip().lower() == customer_email.lower()


def may_see(definition: ProcessDefinition, state_id: str, actor: ActorLike) -> bool:
    """Whether the actor may see tickets while they are in this state."""
    visible_to = definition.state(state_id).visible_to
    if actor.is_admin or not visible_to or holds(actor, SEE_ALL_QUEUES):
        return True
    return bool(set(visible_to) & set(actor.groups))


def may_perform(
    definition: ProcessDefinition,
    state_id: str,
    action: ActionSpec,
    actor: ActorLike,
    assignee: str | None = None,
) -> bool:
    """Whether the actor may press this action's button on a ticket in this state.

    With the process's ``assignee_only`` option, an assigned ticket is acted on by its
    assignee only (admins, and actions marked ``any_agent``, excepted). An agent without the
    right ``act`` (a read-only role) presses nothing.
    """
    if not may_see(definition, state_id, actor):
        return False
    if getattr(actor, "kind", "agent") == "agent" and not holds(actor, ACT):
        return False
    if actor.is_admin:
        return True
    if action.groups and not set(action.groups) & set(actor.groups):
        return False
    return not (
        definition.assignee_only
        and assignee
        and assignee != actor.username
        and not action.any_agent
    )


def actions_for(
    definition: ProcessDefinition, state_id: str, actor: ActorLike, assignee: str | None = None
) -> list[ActionSpec]:
    """The buttons this actor gets on a ticket in this state, in the definition's order."""
    return [
        a
        for a in definition.actions_in(state_id)
        if may_perform(definition, state_id, a, actor, assignee)
    ]


def customer_actions(definition: ProcessDefinition, state_id: str) -> list[ActionSpec]:
    """The buttons a customer gets on their request in this state (the portal's)."""
    if definition.state(state_id).final:
        return []
    return [a for a in definition.actions_in(state_id) if a.customers]


class FieldErrors(ValueError):
    """Invalid action fields; ``errors`` maps a field id to a message the agent can read."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def coerce_form(action: ActionSpec, form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Turn HTML form values (lists of strings) into the typed values ``clean_fields`` checks."""
    values: dict[str, Any] = {}
    for spec in action.fields:
        raw = [v for v in form.get(spec.id, []) if v is not None]
        if spec.type == "checkbox":
            values[spec.id] = bool(raw) and raw[-1].lower() in ("on", "true", "1", "yes")
        elif spec.type == "multiselect":
            values[spec.id] = [v for v in raw if v]
        else:
            text = raw[-1].strip() if raw and spec.type != "longtext" else (raw[-1] if raw else "")
            values[spec.id] = text if text.strip() else None
    return values


def clean_fields(action: ActionSpec, values: Mapping[str, Any], *, claimed: bool) -> dict[str, Any]:
    """Check values against the action's fields; return them normalised or raise FieldErrors.

    With ``claimed`` (inside the workflow) a long-text value is the id of its stored message
    body (a claim check); without it (in the web) it is the text itself.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in values:
        if action.field(key) is None:
            errors[key] = f"The action '{action.label}' has no field '{key}'."
    for spec in action.fields:
        value = values.get(spec.id)
        if value is None or value == "" or value == [] or (spec.type == "checkbox" and not value):
            if spec.required:
                errors[spec.id] = "This field is required."
            elif spec.type == "checkbox":
                clean[spec.id] = False
            continue
        try:
            clean[spec.id] = _clean_value(spec, value, claimed=claimed)
        except ValueError as exc:
            errors[spec.id] = str(exc)
    if errors:
        raise FieldErrors(errors)
    return clean


def _clean_value(spec: FieldSpec, value: Any, *, claimed: bool) -> Any:
    kind = spec.type
    if kind == "longtext":
        if claimed:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError("Expected the id of a stored message.")
            return value
        if not isinstance(value, str) or not value.strip():
            raise ValueError("Enter some text.")
        return value
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("Enter text.")
        if len(value) > spec.max_length:
            raise ValueError(f"At most {spec.max_length} characters.")
        return value.strip()
    if kind == "select":
        # A list: membership by equality, as a value sent as JSON may be unhashable.
        if not isinstance(value, str) or value not in [c.value for c in spec.choices]:
            raise ValueError("Choose one of the offered values.")
        return value
    if kind == "multiselect":
        allowed = [c.value for c in spec.choices]
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v in allowed for v in value
        ):
            raise ValueError("Choose among the offered values.")
        return sorted(set(value), key=[c.value for c in spec.choices].index)
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise ValueError("Expected true or false.")
        return value
    if kind == "number":
        number = _number(value)
        if number is None:
            raise ValueError("Enter a number.")
        return number
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValueError("Enter a date as YYYY-MM-DD.")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("Enter a real date as YYYY-MM-DD.") from None
        return value
    if kind in ("agent", "group"):
        if not isinstance(value, str) or not _SLUG.match(value):
            raise ValueError(f"Choose an {kind}." if kind == "agent" else "Choose a group.")
        return value
    if kind == "recipient":
        prefix, _, name = str(value).partition(":")
        if prefix not in ("user", "group") or not _SLUG.match(name):
            raise ValueError("Choose an agent or a group.")
        return f"{prefix}:{name}"
    if kind == "priority":
        number = _number(value)
        if number not in PRIORITIES:
            raise ValueError("Choose a priority.")
        return int(number)
    raise ValueError(f"Unsupported field type '{kind}'.")


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
            return number if number == number and abs(number) != float("inf") else None
    return None


def public_field_values(action: ActionSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values worth recording on the timeline: everything but message bodies."""
    return {
        k: v
        for k, v in values.items()
        if (spec := action.field(k)) is not None and spec.type != "longtext"
    }
