"""The process definition: states, action buttons with fields and effects, and rights.

Pure and deterministic: no I/O, no clock. The same code runs in the web (to draw buttons and
check rights before sending an Update) and inside the workflow (to validate that Update), so
a rule exists in exactly one place.

A definition is a plain document (YAML on disk, JSON when pinned into a workflow); see
``processes/support.yaml`` for the default one and README.md for the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

STATE_CATEGORIES = ("new", "open", "pending", "resolved", "closed", "merged")
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
    "set_priority": EffectRule("Set the priority from a field.", fields={"field": ("priority",)}),
    "set_field": EffectRule(
        "Store a field's value on the ticket (its type or any custom field), searchable; "
        "'name' is the ticket field (the field's id by default).",
        fields={"field": _STORABLE},
        optional=("name",),
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
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int | None:
    """Seconds in "90s", "30m", "12h", "7d" or "2w"; None if it is not such a duration."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition, and where."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class DefinitionError(ValueError):
    """A definition that must not be published; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    id: str
    type: str
    label: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    help: str = ""
    max_length: int = TEXT_MAX


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
            "label": self.label,
            "description": self.description,
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
    doc: dict[str, Any] = {"label": state.label, "category": state.category}
    if state.customer_label and state.customer_label != state.label:
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
    return doc


def _action_document(action: ActionSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"label": action.label, "target": action.target}
    if action.fields:
        doc["fields"] = [_field_document(f) for f in action.fields]
    if action.effects:
        doc["effects"] = [{"type": e.type, **dict(e.args)} for e in action.effects]
    if action.groups:
        doc["groups"] = list(action.groups)
    if action.confirm:
        doc["confirm"] = action.confirm
    if action.style != "default":
        doc["style"] = action.style
    if action.any_agent:
        doc["any_agent"] = True
    return doc


def _field_document(spec: FieldSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": spec.id, "type": spec.type, "label": spec.label}
    if spec.required:
        doc["required"] = True
    if spec.choices:
        doc["choices"] = [{"value": c.value, "label": c.label} for c in spec.choices]
    if spec.help:
        doc["help"] = spec.help
    if spec.max_length != TEXT_MAX:
        doc["max_length"] = spec.max_length
    return doc


# --------------------------------------------------------------------------- reading


def parse_definition(
    data: Any,
    *,
    known_groups: Iterable[str] | None = None,
    known_templates: Iterable[str] | None = None,
    graph: bool = True,
) -> ProcessDefinition:
    """Read and validate a definition document; raise DefinitionError listing every problem.

    ``known_groups`` / ``known_templates``, when given, are checked against the rights and
    the templates the definition names. ``graph=False`` skips the rules about the whole graph
    (reachable states, dead ends, a reachable closed state): only for drawing unfinished
    work, never for publishing.
    """
    reader = _Reader()
    definition = reader.read(data)
    if definition is not None and not reader.problems:
        if graph:
            reader.check_graph(definition)
        if known_groups is not None:
            reader.check_groups(definition, set(known_groups))
        if known_templates is not None:
            templates = set(known_templates)
            for location, name in definition.templates_used():
                if name not in templates:
                    reader.fail(location, f"There is no template '{name}'.")
    if reader.problems or definition is None:
        raise DefinitionError(reader.problems or [Problem("", "The definition is empty.")])
    return definition


def read_yaml(text: str) -> Any:
    """YAML text to plain data; a duplicated key is an error, not a silent overwrite."""
    import yaml

    class _StrictLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                raise DefinitionError(
                    [
                        Problem(
                            f"line {key_node.start_mark.line + 1}",
                            f"'{key}' is defined twice here; ids must be unique.",
                        )
                    ]
                )
            seen.add(key)
        return loader.construct_mapping(node)

    _StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([Problem(where, f"Not valid YAML: {problem}.")]) from None


def load_text(
    text: str,
    *,
    known_groups: Iterable[str] | None = None,
    known_templates: Iterable[str] | None = None,
) -> ProcessDefinition:
    """Read a definition from YAML (or JSON, which is YAML too) text."""
    return parse_definition(
        read_yaml(text), known_groups=known_groups, known_templates=known_templates
    )


def to_yaml(definition: ProcessDefinition) -> str:
    """The definition as the YAML the expert editor shows and `process export` writes."""
    import yaml

    return yaml.safe_dump(definition.to_document(), sort_keys=False, allow_unicode=True, width=100)


def from_json(text: str) -> ProcessDefinition:
    """Read a pinned definition (already validated when it was published)."""
    return parse_definition(json.loads(text))


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, location: str, message: str) -> None:
        self.problems.append(Problem(location, message))

    def text(
        self, data: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> str:
        value = data.get(key, default)
        if value is None:
            self.fail(f"{where}.{key}" if where else key, "This is required.")
            return ""
        if not isinstance(value, str):
            self.fail(f"{where}.{key}" if where else key, "This must be text.")
            return ""
        return value

    def names(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(where, "This must be a list of names.")
            return ()
        return tuple(value)

    def read(self, data: Any) -> ProcessDefinition | None:
        if not isinstance(data, Mapping):
            self.fail("", "A definition is a mapping with name, initial, states and actions.")
            return None
        name = self.text(data, "name", "")
        if name and not _ID.match(name):
            self.fail(
                "name", f"'{name}' is not a valid id: use a-z, 0-9 and _, starting with a letter."
            )
        states_data = data.get("states")
        actions_data = data.get("actions") or {}
        if not isinstance(states_data, Mapping) or not states_data:
            self.fail("states", "A definition needs at least one state.")
            states_data = {}
        if not isinstance(actions_data, Mapping):
            self.fail("actions", "Actions must be a mapping from action id to action.")
            actions_data = {}
        actions = tuple(self.action(str(k), v) for k, v in actions_data.items())
        action_ids = {a.id for a in actions}
        states = tuple(self.state(str(k), v, action_ids) for k, v in states_data.items())
        state_ids = [s.id for s in states]
        initial = data.get("initial", state_ids[0] if state_ids else "")
        if not isinstance(initial, str) or initial not in state_ids:
            self.fail("initial", f"The initial state '{initial}' is not one of the states.")
        for action in actions:
            if action.target != STAY and action.target not in state_ids:
                self.fail(
                    f"actions.{action.id}.target",
                    f"Unknown target state '{action.target}'.",
                )
        for state in states:
            target = state.on_customer_message
            if target != STAY and target not in state_ids:
                self.fail(
                    f"states.{state.id}.on_customer_message",
                    f"Unknown target state '{target}'.",
                )
        for state in states:
            self.check_timeout(state, {a.id: a for a in actions})
        return ProcessDefinition(
            name=name,
            label=self.text(data, "label", "", default=name),
            description=self.text(data, "description", "", default=""),
            initial=initial if isinstance(initial, str) else "",
            states=states,
            actions=actions,
            assignee_only=self.flag(data, "assignee_only", ""),
        )

    def flag(self, data: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}" if where else key, "Use true or false.")
            return default
        return value

    def check_timeout(self, state: StateSpec, actions: Mapping[str, ActionSpec]) -> None:
        timeout = state.timeout
        if timeout is None:
            return
        where = f"states.{state.id}.timeout.action"
        if timeout.action not in state.actions:
            self.fail(where, f"The action '{timeout.action}' is not offered in this state.")
            return
        action = actions.get(timeout.action)
        if action is not None and any(f.required for f in action.fields):
            self.fail(
                where,
                f"The action '{timeout.action}' has required fields; a timeout cannot fill "
                "them in.",
            )

    def state(self, state_id: str, data: Any, action_ids: set[str]) -> StateSpec:
        where = f"states.{state_id}"
        if not _ID.match(state_id):
            self.fail(where, f"'{state_id}' is not a valid id: use a-z, 0-9 and _.")
        if not isinstance(data, Mapping):
            self.fail(where, "A state is a mapping with label, category and actions.")
            data = {}
        category = self.text(data, "category", where)
        if category and category not in STATE_CATEGORIES:
            self.fail(
                f"{where}.category",
                f"Unknown category '{category}'; use one of {', '.join(STATE_CATEGORIES)}.",
            )
        actions = self.names(data.get("actions"), f"{where}.actions")
        for i, action_id in enumerate(actions):
            if action_id not in action_ids:
                self.fail(f"{where}.actions[{i}]", f"Unknown action '{action_id}'.")
        if len(set(actions)) != len(actions):
            self.fail(f"{where}.actions", "An action is listed twice.")
        label = self.text(data, "label", where, default=state_id.replace("_", " ").capitalize())
        colour = self.text(data, "colour", where, default=CATEGORY_COLOURS.get(category, "#6b7280"))
        if colour and not _COLOUR.match(colour):
            self.fail(f"{where}.colour", "Use a colour like #2454d6.")
        return StateSpec(
            id=state_id,
            label=label,
            customer_label=self.text(data, "customer_label", where, default=label),
            category=category,
            actions=actions,
            on_customer_message=self.text(data, "on_customer_message", where, default=STAY),
            visible_to=self.names(data.get("visible_to"), f"{where}.visible_to"),
            colour=colour,
            sla_paused=self.flag(
                data, "sla_paused", where, default=category in SLA_PAUSED_BY_DEFAULT
            ),
            timeout=self.timeout(data.get("timeout"), f"{where}.timeout"),
        )

    def timeout(self, data: Any, where: str) -> Timeout | None:
        if data is None:
            return None
        if not isinstance(data, Mapping):
            self.fail(where, "A timeout is a mapping with 'after' and 'action'.")
            return None
        after = self.text(data, "after", where)
        seconds = parse_duration(after)
        if after and seconds is None:
            self.fail(f"{where}.after", "Use a duration like 30m, 12h or 7d.")
        action = self.text(data, "action", where)
        return Timeout(after=after, seconds=seconds or 0, action=action)

    def action(self, action_id: str, data: Any) -> ActionSpec:
        where = f"actions.{action_id}"
        if not _ID.match(action_id):
            self.fail(where, f"'{action_id}' is not a valid id: use a-z, 0-9 and _.")
        if action_id in (CUSTOMER_MESSAGE, STAY):
            self.fail(where, f"'{action_id}' is reserved.")
        if not isinstance(data, Mapping):
            self.fail(where, "An action is a mapping with label, target, fields and effects.")
            data = {}
        fields_data = data.get("fields") or []
        if not isinstance(fields_data, list):
            self.fail(f"{where}.fields", "Fields must be a list.")
            fields_data = []
        fields = tuple(self.field(f"{where}.fields[{i}]", f) for i, f in enumerate(fields_data))
        ids = [f.id for f in fields]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            self.fail(f"{where}.fields", f"The field id '{dup}' is used twice.")
        effects_data = data.get("effects") or []
        if not isinstance(effects_data, list):
            self.fail(f"{where}.effects", "Effects must be a list.")
            effects_data = []
        effects = tuple(
            self.effect(f"{where}.effects[{i}]", e, fields) for i, e in enumerate(effects_data)
        )
        style = self.text(data, "style", where, default="default")
        if style not in ("default", "primary", "danger"):
            self.fail(f"{where}.style", "Style is one of default, primary, danger.")
        return ActionSpec(
            id=action_id,
            label=self.text(data, "label", where, default=action_id.replace("_", " ").capitalize()),
            target=self.text(data, "target", where),
            fields=fields,
            effects=effects,
            groups=self.names(data.get("groups"), f"{where}.groups"),
            confirm=self.text(data, "confirm", where, default=""),
            style=style,
            any_agent=self.flag(data, "any_agent", where),
        )

    def field(self, where: str, data: Any) -> FieldSpec:
        if not isinstance(data, Mapping):
            self.fail(where, "A field is a mapping with id, type and label.")
            return FieldSpec(id="", type="text", label="")
        field_id = self.text(data, "id", where)
        if field_id and not _ID.match(field_id):
            self.fail(f"{where}.id", f"'{field_id}' is not a valid id: use a-z, 0-9 and _.")
        field_type = self.text(data, "type", where)
        if field_type and field_type not in FIELD_TYPES:
            self.fail(
                f"{where}.type",
                f"Unknown field type '{field_type}'; use one of {', '.join(FIELD_TYPES)}.",
            )
        choices: list[Choice] = []
        for i, c in enumerate(data.get("choices") or []):
            if isinstance(c, str):
                choices.append(Choice(c, c))
            elif isinstance(c, Mapping) and isinstance(c.get("value"), str):
                choices.append(Choice(c["value"], str(c.get("label", c["value"]))))
            else:
                self.fail(f"{where}.choices[{i}]", "A choice is text or {value, label}.")
        if field_type in ("select", "multiselect") and not choices:
            self.fail(f"{where}.choices", "A select field needs choices.")
        max_length = data.get("max_length", TEXT_MAX)
        if not isinstance(max_length, int) or max_length < 1:
            self.fail(f"{where}.max_length", "max_length must be a positive whole number.")
            max_length = TEXT_MAX
        required = data.get("required", False)
        if not isinstance(required, bool):
            self.fail(f"{where}.required", "required is true or false.")
            required = False
        return FieldSpec(
            id=field_id,
            type=field_type,
            label=self.text(data, "label", where, default=field_id.replace("_", " ").capitalize()),
            required=required,
            choices=tuple(choices),
            help=self.text(data, "help", where, default=""),
            max_length=max_length,
        )

    def effect(self, where: str, data: Any, fields: tuple[FieldSpec, ...]) -> Effect:
        if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
            self.fail(where, "An effect is a mapping with a type.")
            return Effect(type="")
        effect_type = data["type"]
        rule = EFFECTS.get(effect_type)
        if rule is None:
            self.fail(
                f"{where}.type",
                f"Unknown effect '{effect_type}'; use one of {', '.join(EFFECT_TYPES)}.",
            )
            return Effect(type=effect_type)
        args = {str(k): str(v) for k, v in data.items() if k != "type"}
        allowed = set(rule.fields) | set(rule.optional)
        allowed |= {"template"} if rule.template else set()
        allowed |= {"to"} if rule.recipient else set()
        for extra in sorted(set(args) - allowed):
            self.fail(f"{where}.{extra}", f"The {effect_type} effect has no '{extra}'.")
        for arg, types in rule.fields.items():
            field_id = args.get(arg)
            spec = next((f for f in fields if f.id == field_id), None)
            if not field_id:
                self.fail(f"{where}.{arg}", f"The {effect_type} effect needs '{arg}'.")
            elif spec is None:
                self.fail(f"{where}.{arg}", f"No field '{field_id}' in this action.")
            elif spec.type not in types:
                kinds = " or ".join(types) if len(types) < 4 else "anything but longtext"
                self.fail(f"{where}.{arg}", f"The field '{field_id}' must be of type {kinds}.")
        if rule.template and not args.get("template"):
            self.fail(f"{where}.template", f"The {effect_type} effect needs 'template'.")
        if rule.recipient and args.get("to") not in RECIPIENTS:
            self.fail(f"{where}.to", f"Send to one of {', '.join(RECIPIENTS)}.")
        if "name" in args and not _ID.match(args["name"]):
            self.fail(f"{where}.name", f"'{args['name']}' is not a valid id: use a-z, 0-9 and _.")
        return Effect(type=effect_type, args=args)

    def check_graph(self, definition: ProcessDefinition) -> None:
        """Structural rules the state machine library does not check for loaded documents."""
        ids = [s.id for s in definition.states]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            self.fail(f"states.{dup}", "This state id is used twice.")
        reachable = {definition.initial}
        frontier = [definition.initial]
        while frontier:
            state = definition.state(frontier.pop())
            targets = [definition.target_of(state.id, a) for a in definition.actions_in(state.id)]
            targets.append(definition.customer_message_target(state.id))
            for target in targets:
                if target not in reachable:
                    reachable.add(target)
                    frontier.append(target)
        for state in definition.states:
            if state.id not in reachable:
                self.fail(
                    f"states.{state.id}", "This state cannot be reached from the initial state."
                )
            if state.final and state.category != "closed":
                self.fail(
                    f"states.{state.id}",
                    "This state has no way out but its category is not closed.",
                )
        if not any(definition.state(s).category == "closed" for s in reachable):
            self.fail("states", "No closed state can be reached: tickets could never be closed.")

    def check_groups(self, definition: ProcessDefinition, known: set[str]) -> None:
        for state in definition.states:
            for group in state.visible_to:
                if group not in known:
                    self.fail(f"states.{state.id}.visible_to", f"Unknown group '{group}'.")
        for action in definition.actions:
            for group in action.groups:
                if group not in known:
                    self.fail(f"actions.{action.id}.groups", f"Unknown group '{group}'.")
