"""Reading a definition document into its specs, with every problem located.

Each state, action, field and effect is checked as it is read; ``checks`` then holds the
rules across the parts (references, the graph, known groups and templates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .checks import reference_problems, whole_problems
from .definition import (
    CALL_OUTCOMES,
    CATEGORY_COLOURS,
    CUSTOMER_MESSAGE,
    EFFECT_TYPES,
    EFFECTS,
    FIELD_TYPES,
    RECIPIENTS,
    SLA_PAUSED_BY_DEFAULT,
    STATE_CATEGORIES,
    STAY,
    TEXT_MAX,
    ActionSpec,
    Choice,
    Effect,
    FieldSpec,
    ProcessDefinition,
    StateSpec,
    Timeout,
)
from .durations import parse_duration
from .problems import DefinitionError, Problem
from .texts import Texts
from .texts import read as read_texts

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


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
        reader.problems.extend(
            whole_problems(
                definition,
                graph=graph,
                known_groups=known_groups,
                known_templates=known_templates,
            )
        )
    if reader.problems or definition is None:
        raise DefinitionError(reader.problems or [Problem("", "The definition is empty.")])
    return definition


class _Reader:
    """Reads one document, noting every problem instead of stopping at the first."""

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

    def texts(
        self, data: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> tuple[str, Texts]:
        """A text people read: one string, or a mapping of language -> text."""
        value = data.get(key, default)
        if value is None:
            self.fail(f"{where}.{key}" if where else key, "This is required.")
            return "", ()
        found = read_texts(value)
        if isinstance(found, str):
            self.fail(f"{where}.{key}" if where else key, found)
            return "", ()
        return found

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
        self.problems.extend(reference_problems(states, actions))
        label, labels = self.texts(data, "label", "", default=name)
        description, descriptions = self.texts(data, "description", "", default="")
        return ProcessDefinition(
            name=name,
            label=label,
            labels=labels,
            description=description,
            descriptions=descriptions,
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
        label, labels = self.texts(
            data, "label", where, default=state_id.replace("_", " ").capitalize()
        )
        customer_label, customer_labels = self.texts(data, "customer_label", where, default=label)
        colour = self.text(data, "colour", where, default=CATEGORY_COLOURS.get(category, "#6b7280"))
        if colour and not _COLOUR.match(colour):
            self.fail(f"{where}.colour", "Use a colour like #2454d6.")
        return StateSpec(
            id=state_id,
            label=label,
            labels=labels,
            customer_label=customer_label,
            customer_labels=customer_labels,
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
        business = data.get("business", False)
        if not isinstance(business, bool):
            self.fail(f"{where}.business", "Use true (business time) or false (wall-clock).")
            business = False
        return Timeout(after=after, seconds=seconds or 0, action=action, business=business)

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
        customers = self.flag(data, "customers", where)
        if customers and fields:
            self.fail(f"{where}.customers", "An action for customers takes no fields.")
        label, labels = self.texts(
            data, "label", where, default=action_id.replace("_", " ").capitalize()
        )
        confirm, confirms = self.texts(data, "confirm", where, default="")
        return ActionSpec(
            id=action_id,
            label=label,
            labels=labels,
            target=self.text(data, "target", where),
            fields=fields,
            effects=effects,
            groups=self.names(data.get("groups"), f"{where}.groups"),
            confirm=confirm,
            confirms=confirms,
            style=style,
            any_agent=self.flag(data, "any_agent", where),
            customers=customers,
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
        choices_data = data.get("choices") or []
        if not isinstance(choices_data, list):
            self.fail(f"{where}.choices", "Choices must be a list.")
            choices_data = []
        for i, c in enumerate(choices_data):
            if isinstance(c, str):
                choices.append(Choice(c, c))
            elif isinstance(c, Mapping) and isinstance(c.get("value"), str):
                raw = c.get("label", c["value"])
                # A number or yes/no as a label was read as its text before: keep it so.
                raw = raw if isinstance(raw, str | Mapping) else str(raw)
                text, texts = self.texts({"label": raw}, "label", f"{where}.choices[{i}]")
                choices.append(Choice(c["value"], text, texts))
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
        label, labels = self.texts(
            data, "label", where, default=field_id.replace("_", " ").capitalize()
        )
        return FieldSpec(
            id=field_id,
            type=field_type,
            label=label,
            labels=labels,
            required=required,
            choices=tuple(choices),
            help=self.text(data, "help", where, default=""),
            max_length=max_length,
        )

    def call_args(self, where: str, args: Mapping[str, str], fields: tuple[FieldSpec, ...]) -> None:
        """record_call: a known outcome; notes (if any) from a long-text field."""
        if args.get("outcome") not in CALL_OUTCOMES:
            self.fail(f"{where}.outcome", f"Use one of {', '.join(CALL_OUTCOMES)}.")
        notes = args.get("notes_field")
        spec = next((f for f in fields if f.id == notes), None)
        if notes and (spec is None or spec.type != "longtext"):
            self.fail(f"{where}.notes_field", f"No long-text field '{notes}' in this action.")

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
        if effect_type == "record_call":
            self.call_args(where, args, fields)
        if "name" in args and not _ID.match(args["name"]):
            self.fail(f"{where}.name", f"'{args['name']}' is not a valid id: use a-z, 0-9 and _.")
        return Effect(type=effect_type, args=args)
