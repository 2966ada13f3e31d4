"""The form editor's model: a process document <-> the flat HTML form, and the form's operations.

Pure (no Flask, no database), so every rule here is unit-tested on plain dicts. The form
names every input by position (``s2-label`` is the third state's label, ``a0-f1-type`` the
first action's second field's type) and carries each state's and action's id as it was shown
(``s2-orig``), so an id renamed in the form is followed everywhere in the same document. A
document that the form cannot show faithfully (a list where a mapping belongs, ...) is left
to the expert editor: ``not_editable`` says why.

The document written back is in the canonical form of ``ProcessDefinition.to_document``
(optional keys only when they differ from their default), so a form that was not touched
gives back exactly the document it showed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from statemachines import EFFECTS, FIELD_TYPES, RECIPIENTS, STATE_CATEGORIES, Problem
from statemachines.definition import CATEGORY_COLOURS, SLA_PAUSED_BY_DEFAULT, STAY, TEXT_MAX

STYLES = ("default", "primary", "danger")
#: Every argument an effect may take, in the order the form shows them.
EFFECT_ARGS = ("body_field", "field", "note_field", "template", "to", "name")
#: The arguments that name one of the action's own fields.
FIELD_ARGS = ("body_field", "field", "note_field")
_OPERATION = re.compile(
    r"^(save|publish|add_state|add_action"
    r"|(?:remove|up|down)_(?:state|action):[^:]*"
    r"|add_(?:field|effect):[^:]*"
    r"|remove_(?:field|effect):[^:]*:\d+)$"
)
_FALLBACK_COLOUR = "#6b7280"
_ACTION_KEY_ORDER = (
    "label",
    "target",
    "fields",
    "effects",
    "groups",
    "confirm",
    "style",
    "any_agent",
)

Form = Mapping[str, list[str]]


def options() -> dict[str, Any]:
    """The fixed lists the form's selects offer, and what each effect does and takes."""
    return {
        "categories": STATE_CATEGORIES,
        "field_types": FIELD_TYPES,
        "recipients": RECIPIENTS,
        "styles": STYLES,
        "effects": {name: rule.doc for name, rule in EFFECTS.items()},
        "effect_args": {name: list(effect_args(name)) for name in EFFECTS},
    }


def effect_args(effect_type: str) -> tuple[str, ...]:
    """The arguments an effect type takes (all of them for an unknown type)."""
    rule = EFFECTS.get(effect_type)
    if rule is None:
        return EFFECT_ARGS
    allowed = set(rule.fields) | set(rule.optional)
    allowed |= {"template"} if rule.template else set()
    allowed |= {"to"} if rule.recipient else set()
    return tuple(a for a in EFFECT_ARGS if a in allowed)


def dump(document: Mapping[str, Any]) -> str:
    """A (possibly invalid) document as the YAML kept in the draft."""
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)


# --------------------------------------------------------------------------- document -> form


@dataclass
class FieldRow:
    index: int
    id: str
    type: str
    label: str
    required: bool
    choices: str  # one "value=Label" per line
    help: str
    max_length: str  # kept as it was; empty for the default


@dataclass
class EffectRow:
    index: int
    type: str
    args: dict[str, str]

    @property
    def shown_args(self) -> tuple[str, ...]:
        return effect_args(self.type)


@dataclass
class OfferRow:
    """One action in a state's "actions offered" list."""

    action_index: int
    id: str
    label: str
    offered: bool
    position: int | None


@dataclass
class StateRow:
    index: int
    id: str
    label: str
    customer_label: str
    category: str
    colour: str
    colour_auto: bool  # no colour of its own: the category's
    sla_paused: bool
    sla_auto: bool  # no sla_paused of its own: the category's default
    timeout_after: str
    timeout_action: str
    on_customer_message: str
    visible_to: list[str]
    offers: list[OfferRow]
    unknown_actions: list[str]  # listed actions that do not exist (kept, and reported)


@dataclass
class ActionRow:
    index: int
    id: str
    label: str
    target: str
    confirm: str
    style: str
    any_agent: bool
    groups: list[str]
    fields: list[FieldRow]
    effects: list[EffectRow]


@dataclass
class EditorForm:
    """What the form editor template shows, in the document's order."""

    name: str
    label: str
    description: str
    initial: str
    assignee_only: bool
    states: list[StateRow]
    actions: list[ActionRow]
    group_options: list[tuple[str, bool]] = field(default_factory=list)  # (name, known)
    template_options: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def state_ids(self) -> list[str]:
        return [s.id for s in self.states]

    @property
    def action_ids(self) -> list[str]:
        return [a.id for a in self.actions]

    def fields_of(self, action: ActionRow) -> list[str]:
        return [f.id for f in action.fields]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _names(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def not_editable(document: Any) -> list[str]:
    """Why the form cannot show this document faithfully (empty when it can)."""
    if not isinstance(document, Mapping):
        return ["The document is not a mapping with name, states and actions."]
    reasons: list[str] = []

    def mapping(value: Any, where: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            reasons.append(f"{where} is not a mapping.")
            return {}
        return value

    def listing(value: Any, where: str, of: type | tuple[type, ...] = str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, of) for v in value):
            reasons.append(f"{where} is not a list of the right kind.")
            return []
        return value

    for state_id, state in mapping(document.get("states"), "states").items():
        where = f"states.{state_id}"
        state = mapping(state, where)
        listing(state.get("actions"), f"{where}.actions")
        listing(state.get("visible_to"), f"{where}.visible_to")
        mapping(state.get("timeout"), f"{where}.timeout")
    for action_id, action in mapping(document.get("actions"), "actions").items():
        where = f"actions.{action_id}"
        action = mapping(action, where)
        listing(action.get("groups"), f"{where}.groups")
        for i, spec in enumerate(listing(action.get("fields"), f"{where}.fields", Mapping)):
            listing(spec.get("choices"), f"{where}.fields[{i}].choices", (str, Mapping))
        listing(action.get("effects"), f"{where}.effects", Mapping)
    return reasons


def editor_form(
    document: Mapping[str, Any], *, groups: Iterable[str] = (), templates: Iterable[str] = ()
) -> EditorForm:
    """The form for a document (check ``not_editable`` first). ``groups`` and ``templates``
    are the ones that exist; names the document uses that do not exist are offered too,
    marked unknown, so the form never drops them silently."""
    states_data = document.get("states") or {}
    actions_data = document.get("actions") or {}
    actions = [
        _action_row(k, str(action_id), data or {})
        for k, (action_id, data) in enumerate(actions_data.items())
    ]
    states = [
        _state_row(i, str(state_id), data or {}, actions)
        for i, (state_id, data) in enumerate(states_data.items())
    ]
    used_groups = [g for s in states for g in s.visible_to] + [g for a in actions for g in a.groups]
    used_templates = [
        e.args.get("template", "") for a in actions for e in a.effects if e.args.get("template")
    ]
    return EditorForm(
        name=_text(document.get("name")),
        label=_text(document.get("label")),
        description=_text(document.get("description")),
        initial=_text(document.get("initial")),
        assignee_only=document.get("assignee_only") is True,
        states=states,
        actions=actions,
        group_options=_options(groups, used_groups),
        template_options=_options(templates, used_templates),
    )


def _options(known: Iterable[str], used: Iterable[str]) -> list[tuple[str, bool]]:
    known_list = list(dict.fromkeys(known))
    extra = [u for u in dict.fromkeys(used) if u not in known_list]
    return [(k, True) for k in known_list] + [(u, False) for u in extra]


def _state_row(
    index: int, state_id: str, data: Mapping[str, Any], actions: list[ActionRow]
) -> StateRow:
    category = _text(data.get("category"))
    listed = _names(data.get("actions"))
    by_id = {a.id: a for a in actions}
    offered = [a for a in listed if a in by_id]
    offers = [
        OfferRow(by_id[a].index, a, by_id[a].label, True, n + 1) for n, a in enumerate(offered)
    ] + [OfferRow(a.index, a.id, a.label, False, None) for a in actions if a.id not in offered]
    timeout = data.get("timeout") or {}
    label = _text(data.get("label"))
    colour = data.get("colour")
    sla = data.get("sla_paused")
    return StateRow(
        index=index,
        id=state_id,
        label=label,
        customer_label=_text(data.get("customer_label")),
        category=category,
        colour=_text(colour) if colour else CATEGORY_COLOURS.get(category, _FALLBACK_COLOUR),
        colour_auto=not colour,
        sla_paused=sla is True if isinstance(sla, bool) else category in SLA_PAUSED_BY_DEFAULT,
        sla_auto=not isinstance(sla, bool),
        timeout_after=_text(timeout.get("after")),
        timeout_action=_text(timeout.get("action")),
        on_customer_message=_text(data.get("on_customer_message")) or STAY,
        visible_to=_names(data.get("visible_to")),
        offers=offers,
        unknown_actions=[a for a in listed if a not in by_id],
    )


def _action_row(index: int, action_id: str, data: Mapping[str, Any]) -> ActionRow:
    fields = []
    for n, spec in enumerate(data.get("fields") or []):
        max_length = spec.get("max_length", TEXT_MAX)
        fields.append(
            FieldRow(
                index=n,
                id=_text(spec.get("id")),
                type=_text(spec.get("type")),
                label=_text(spec.get("label")),
                required=spec.get("required") is True,
                choices="\n".join(_choice_line(c) for c in spec.get("choices") or []),
                help=_text(spec.get("help")),
                max_length="" if max_length == TEXT_MAX else _text(max_length),
            )
        )
    effects = [
        EffectRow(
            index=m,
            type=_text(effect.get("type")),
            args={str(k): _text(v) for k, v in effect.items() if k != "type"},
        )
        for m, effect in enumerate(data.get("effects") or [])
    ]
    return ActionRow(
        index=index,
        id=action_id,
        label=_text(data.get("label")),
        target=_text(data.get("target")),
        confirm=_text(data.get("confirm")),
        style=_text(data.get("style")) or "default",
        any_agent=data.get("any_agent") is True,
        groups=_names(data.get("groups")),
        fields=fields,
        effects=effects,
    )


def _choice_line(choice: Any) -> str:
    if isinstance(choice, Mapping):
        value = _text(choice.get("value"))
        label = _text(choice.get("label", value))
        return f"{value}={label}"
    return _text(choice)


# --------------------------------------------------------------------------- form -> document


@dataclass
class FormResult:
    """The document a posted form describes, and what could not be taken as posted."""

    document: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    state_renames: dict[str, str] = field(default_factory=dict)  # shown id -> id now
    action_renames: dict[str, str] = field(default_factory=dict)


class _Posted:
    def __init__(self, form: Form):
        self.form = form

    def one(self, key: str) -> str:
        values = self.form.get(key) or [""]
        return values[0].replace("\r\n", "\n")

    def many(self, key: str) -> list[str]:
        return [v for v in self.form.get(key) or [] if v]

    def flag(self, key: str) -> bool:
        return self.one(key) == "on"

    def count(self, key: str) -> int:
        value = self.one(key)
        return min(int(value), 1000) if value.isdigit() else 0


def _unique_ids(
    rows: list[tuple[str, str]], kind: str, problems: list[Problem]
) -> tuple[list[str], dict[str, str]]:
    """The id each row gets and the renames (shown id -> new id). An id typed that another
    row has (or no id at all) is not taken: the row keeps the id it had, and a problem says so.
    Rows whose id did not change are served first, so a rename never pushes them aside."""
    taken = {typed for typed, shown in rows if typed and typed == shown}
    ids: list[str] = []
    renames: dict[str, str] = {}
    claimed: set[str] = set()
    for typed, shown in rows:
        if typed and (typed == shown or typed not in taken) and typed not in claimed:
            chosen = typed
        else:
            busy = taken | claimed
            chosen = shown if shown and shown not in busy else _fresh(shown or f"new_{kind}", busy)
            problems.append(
                Problem(
                    f"{kind}s.{chosen}",
                    f"The id '{typed}' is used by another {kind}; this {kind} keeps the id "
                    f"'{chosen}'."
                    if typed
                    else f"A {kind} needs an id; this {kind} keeps the id '{chosen}'.",
                )
            )
        claimed.add(chosen)
        taken.add(chosen)
        ids.append(chosen)
        if shown and shown != chosen:
            renames[shown] = chosen
    return ids, renames


def _fresh(base: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def document_from_form(form: Form, name: str) -> FormResult:
    """The document the posted form describes (before its operation is applied)."""
    posted = _Posted(form)
    problems: list[Problem] = []
    state_count = posted.count("state_count")
    action_count = posted.count("action_count")
    state_ids, state_renames = _unique_ids(
        [(posted.one(f"s{i}-id").strip(), posted.one(f"s{i}-orig")) for i in range(state_count)],
        "state",
        problems,
    )
    action_ids, action_renames = _unique_ids(
        [(posted.one(f"a{k}-id").strip(), posted.one(f"a{k}-orig")) for k in range(action_count)],
        "action",
        problems,
    )

    def state_ref(value: str) -> str:
        return state_renames.get(value, value)

    def action_ref(value: str) -> str:
        return action_renames.get(value, value)

    document: dict[str, Any] = {
        "name": name,
        "label": posted.one("label").strip(),
        "description": posted.one("description").strip(),
        "initial": state_ref(posted.one("initial")),
    }
    if posted.flag("assignee_only"):
        document["assignee_only"] = True
    document["states"] = {
        state_ids[i]: _state_document(posted, f"s{i}", action_ids, action_ref, state_ref)
        for i in range(state_count)
    }
    document["actions"] = {
        action_ids[k]: _action_document(posted, f"a{k}", state_ref) for k in range(action_count)
    }
    return FormResult(document, problems, state_renames, action_renames)


def _state_document(
    posted: _Posted,
    prefix: str,
    action_ids: list[str],
    action_ref: Callable[[str], str],
    state_ref: Callable[[str], str],
) -> dict[str, Any]:
    label = posted.one(f"{prefix}-label").strip()
    category = posted.one(f"{prefix}-category")
    doc: dict[str, Any] = {"label": label, "category": category}
    customer_label = posted.one(f"{prefix}-customer_label").strip()
    if customer_label and customer_label != label:
        doc["customer_label"] = customer_label
    offered = []
    for value in posted.many(f"{prefix}-offer"):
        if value.isdigit() and int(value) < len(action_ids):
            k = int(value)
            position = posted.one(f"{prefix}-pos-{k}").strip()
            order = int(position) if position.lstrip("-").isdigit() else 10**6
            offered.append((order, k))
    doc["actions"] = [action_ids[k] for _, k in sorted(offered)] + posted.many(f"{prefix}-unknown")
    on_message = state_ref(posted.one(f"{prefix}-on_customer_message"))
    if on_message and on_message != STAY:
        doc["on_customer_message"] = on_message
    visible_to = posted.many(f"{prefix}-visible_to")
    if visible_to:
        doc["visible_to"] = visible_to
    colour = posted.one(f"{prefix}-colour").lower()
    shown_auto_colour = posted.one(f"{prefix}-colour_auto").lower()
    if colour and colour != shown_auto_colour and colour != CATEGORY_COLOURS.get(category):
        doc["colour"] = colour
    sla_paused = posted.flag(f"{prefix}-sla_paused")
    shown_auto_sla = posted.one(f"{prefix}-sla_auto")
    sla_kept_auto = shown_auto_sla == ("on" if sla_paused else "off")
    if not sla_kept_auto and sla_paused != (category in SLA_PAUSED_BY_DEFAULT):
        doc["sla_paused"] = sla_paused
    after = posted.one(f"{prefix}-timeout_after").strip()
    timeout_action = action_ref(posted.one(f"{prefix}-timeout_action"))
    if after or timeout_action:
        doc["timeout"] = {"after": after, "action": timeout_action}
    return doc


def _action_document(
    posted: _Posted, prefix: str, state_ref: Callable[[str], str]
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "label": posted.one(f"{prefix}-label").strip(),
        "target": state_ref(posted.one(f"{prefix}-target")),
    }
    fields = []
    field_renames: dict[str, str] = {}
    for n in range(posted.count(f"{prefix}-field_count")):
        where = f"{prefix}-f{n}"
        spec = _field_document(posted, where)
        shown = posted.one(f"{where}-orig")
        if shown and shown != spec["id"]:
            field_renames[shown] = spec["id"]
        fields.append(spec)
    effects = []
    for m in range(posted.count(f"{prefix}-effect_count")):
        where = f"{prefix}-e{m}"
        effect_type = posted.one(f"{where}-type")
        effect: dict[str, Any] = {"type": effect_type}
        for arg in effect_args(effect_type):
            value = posted.one(f"{where}-{arg}").strip()
            if value:
                effect[arg] = field_renames.get(value, value) if arg in FIELD_ARGS else value
        effects.append(effect)
    if fields:
        doc["fields"] = fields
    if effects:
        doc["effects"] = effects
    groups = posted.many(f"{prefix}-groups")
    if groups:
        doc["groups"] = groups
    confirm = posted.one(f"{prefix}-confirm").strip()
    if confirm:
        doc["confirm"] = confirm
    style = posted.one(f"{prefix}-style")
    if style and style != "default":
        doc["style"] = style
    if posted.flag(f"{prefix}-any_agent"):
        doc["any_agent"] = True
    return doc


def _field_document(posted: _Posted, where: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "id": posted.one(f"{where}-id").strip(),
        "type": posted.one(f"{where}-type"),
        "label": posted.one(f"{where}-label").strip(),
    }
    if posted.flag(f"{where}-required"):
        spec["required"] = True
    choices = []
    for line in posted.one(f"{where}-choices").splitlines():
        if line.strip():
            value, _, label = line.partition("=")
            value = value.strip()
            choices.append({"value": value, "label": label.strip() or value})
    if choices:
        spec["choices"] = choices
    help_text = posted.one(f"{where}-help").strip()
    if help_text:
        spec["help"] = help_text
    max_length = posted.one(f"{where}-max_length").strip()
    if max_length:
        spec["max_length"] = int(max_length) if max_length.isdigit() else max_length
    return spec


# --------------------------------------------------------------------------- operations


def operation(form: Form) -> str:
    """The operation of the button pressed (``save`` when there is none or it is unknown)."""
    value = _Posted(form).one("op")
    return value if _OPERATION.match(value) else "save"


def apply(result: FormResult, op: str) -> str:
    """Apply an operation to the document in place; return the anchor of what it changed.

    Ids in operations are the ids the page showed; an item renamed in the same submit is
    found under its new id.
    """
    document = result.document
    states: dict[str, Any] = document["states"]
    actions: dict[str, Any] = document["actions"]
    verb, _, rest = op.partition(":")
    parts = rest.split(":")
    if verb in ("save", "publish"):
        return ""
    if verb == "add_state":
        state_id = _fresh("new_state", states)
        states[state_id] = {"label": "New state", "category": "open", "actions": []}
        return f"state-{state_id}"
    if verb == "add_action":
        action_id = _fresh("new_action", actions)
        actions[action_id] = {"label": "New action", "target": STAY}
        return f"action-{action_id}"
    if verb.endswith("_state"):
        state_id = result.state_renames.get(parts[0], parts[0])
        if state_id not in states:
            return "states"
        if verb == "remove_state":
            del states[state_id]
            return "states"
        document["states"] = _moved(states, state_id, -1 if verb == "up_state" else 1)
        return f"state-{state_id}"
    action_id = result.action_renames.get(parts[0], parts[0])
    action = actions.get(action_id)
    if action is None:
        return "actions"
    if verb == "remove_action":
        del actions[action_id]
        for state in states.values():
            state["actions"] = [a for a in state.get("actions", []) if a != action_id]
        return "actions"
    if verb in ("up_action", "down_action"):
        document["actions"] = _moved(actions, action_id, -1 if verb == "up_action" else 1)
        return f"action-{action_id}"
    key = "fields" if verb.endswith("_field") else "effects"
    items: list[dict[str, Any]] = action.setdefault(key, [])
    if verb == "add_field":
        field_id = _fresh(f"field_{len(items) + 1}", [str(f.get("id")) for f in items])
        items.append({"id": field_id, "type": "text", "label": "New field"})
    elif verb == "add_effect":
        items.append({"type": "add_note"})
    else:
        index = int(parts[1])
        if index < len(items):
            del items[index]
    if not items:
        del action[key]
    actions[action_id] = {k: action[k] for k in sorted(action, key=_ACTION_KEY_ORDER.index)}
    return f"action-{action_id}-{key}"


def _moved(items: dict[str, Any], key: str, step: int) -> dict[str, Any]:
    keys = list(items)
    i = keys.index(key)
    j = min(max(i + step, 0), len(keys) - 1)
    keys[i], keys[j] = keys[j], keys[i]
    return {k: items[k] for k in keys}


# --------------------------------------------------------------------------- problems


@dataclass
class Placement:
    """Problems by what causes them; ``top`` holds the rest (process-wide ones)."""

    top: list[Problem] = field(default_factory=list)
    states: dict[str, list[Problem]] = field(default_factory=dict)
    actions: dict[str, list[Problem]] = field(default_factory=dict)
    fields: dict[tuple[str, int], list[Problem]] = field(default_factory=dict)
    effects: dict[tuple[str, int], list[Problem]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.top) + sum(
            len(ps)
            for group in (self.states, self.actions, self.fields, self.effects)
            for ps in group.values()
        )


_ITEM = re.compile(r"^(fields|effects)\[(\d+)\]")


def place(
    problems: Iterable[Problem], state_ids: Iterable[str], action_ids: Iterable[str]
) -> Placement:
    """Put each problem next to the state, action, field or effect its location names."""
    placement = Placement()
    states = sorted(state_ids, key=len, reverse=True)  # "open_x" before "open"
    actions = sorted(action_ids, key=len, reverse=True)
    for problem in problems:
        location = problem.location
        state = _owner(location, "states.", states)
        if state is not None:
            placement.states.setdefault(state, []).append(problem)
            continue
        action = _owner(location, "actions.", actions)
        if action is None:
            placement.top.append(problem)
            continue
        item = _ITEM.match(location[len(f"actions.{action}.") :])
        if item is None:
            placement.actions.setdefault(action, []).append(problem)
        else:
            group = placement.fields if item.group(1) == "fields" else placement.effects
            group.setdefault((action, int(item.group(2))), []).append(problem)
    return placement


def _owner(location: str, prefix: str, ids: list[str]) -> str | None:
    for item_id in ids:
        head = prefix + item_id
        if location == head or location.startswith((head + ".", head + "[")):
            return item_id
    return None


# --------------------------------------------------------------------------- new processes


def new_document(
    name: str, label: str = "", copy_of: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The first draft of a new process: a copy of another one, or the smallest that works."""
    if copy_of is not None:
        document = dict(copy_of)
        document["name"] = name
        if label:
            document["label"] = label
        return document
    return {
        "name": name,
        "label": label or name.replace("_", " ").capitalize(),
        "description": "",
        "initial": "new",
        "states": {
            "new": {"label": "New", "category": "new", "actions": ["close"]},
            "closed": {"label": "Closed", "category": "closed", "actions": []},
        },
        "actions": {"close": {"label": "Close", "target": "closed"}},
    }
