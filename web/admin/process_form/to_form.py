"""Document -> form: the rows the form editor shows for a process document, and why a
document cannot be shown faithfully (``not_editable``: it is then left to the expert editor).

Names the document uses that do not exist (groups, templates, actions a state lists) are
shown too, marked unknown, so a round trip through the form never drops them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from statemachines.definition import CATEGORY_COLOURS, SLA_PAUSED_BY_DEFAULT, STAY, TEXT_MAX
from web.admin.process_form.common import effect_args, text_field

_FALLBACK_COLOUR = "#6b7280"


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
    timeout_business: bool  # the timeout counts business time of the ticket's calendar
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
    customers: bool
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
        label=text_field(document.get("label")),
        description=text_field(document.get("description")),
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
    label = text_field(data.get("label"))
    colour = data.get("colour")
    sla = data.get("sla_paused")
    return StateRow(
        index=index,
        id=state_id,
        label=label,
        customer_label=text_field(data.get("customer_label")),
        category=category,
        colour=_text(colour) if colour else CATEGORY_COLOURS.get(category, _FALLBACK_COLOUR),
        colour_auto=not colour,
        sla_paused=sla is True if isinstance(sla, bool) else category in SLA_PAUSED_BY_DEFAULT,
        sla_auto=not isinstance(sla, bool),
        timeout_after=_text(timeout.get("after")),
        timeout_action=_text(timeout.get("action")),
        timeout_business=timeout.get("business") is True,
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
                label=text_field(spec.get("label")),
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
        label=text_field(data.get("label")),
        target=_text(data.get("target")),
        confirm=text_field(data.get("confirm")),
        style=_text(data.get("style")) or "default",
        any_agent=data.get("any_agent") is True,
        customers=data.get("customers") is True,
        groups=_names(data.get("groups")),
        fields=fields,
        effects=effects,
    )


def _choice_line(choice: Any) -> str:
    if isinstance(choice, Mapping):
        value = _text(choice.get("value"))
        label = text_field(choice.get("label", value))
        return f"{value}={label}"
    return _text(choice)
