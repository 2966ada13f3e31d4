"""The rules across a definition's parts, each returning located problems.

Reading a document (``parsing``) checks each state, action, field and effect on its own;
these check that the parts fit together: every reference names something that exists, the
graph lets every ticket be closed, and the groups and templates it names exist. The state
machine library does not check these for loaded documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .definition import STAY, ActionSpec, ProcessDefinition, StateSpec
from .problems import Problem
from .texts import Texts, missing


def reference_problems(
    states: tuple[StateSpec, ...], actions: tuple[ActionSpec, ...]
) -> list[Problem]:
    """Targets and customer-message targets that are no state; timeouts that cannot fire."""
    state_ids = [s.id for s in states]
    problems = []
    for action in actions:
        if action.target != STAY and action.target not in state_ids:
            problems.append(
                Problem(f"actions.{action.id}.target", f"Unknown target state '{action.target}'.")
            )
    for state in states:
        target = state.on_customer_message
        if target != STAY and target not in state_ids:
            problems.append(
                Problem(
                    f"states.{state.id}.on_customer_message", f"Unknown target state '{target}'."
                )
            )
    by_id = {a.id: a for a in actions}
    for state in states:
        problems.extend(timeout_problems(state, by_id))
    return problems


def timeout_problems(state: StateSpec, actions: Mapping[str, ActionSpec]) -> list[Problem]:
    """A state's timeout must fire an action offered there that needs no field filled in."""
    timeout = state.timeout
    if timeout is None:
        return []
    where = f"states.{state.id}.timeout.action"
    if timeout.action not in state.actions:
        return [Problem(where, f"The action '{timeout.action}' is not offered in this state.")]
    action = actions.get(timeout.action)
    if action is not None and any(f.required for f in action.fields):
        return [
            Problem(
                where,
                f"The action '{timeout.action}' has required fields; a timeout cannot fill "
                "them in.",
            )
        ]
    return []


def whole_problems(
    definition: ProcessDefinition,
    *,
    graph: bool,
    known_groups: Iterable[str] | None,
    known_templates: Iterable[str] | None,
) -> list[Problem]:
    """The checks of a definition whose parts are each valid (see ``parse_definition``)."""
    problems = graph_problems(definition) if graph else []
    if known_groups is not None:
        problems.extend(group_problems(definition, set(known_groups)))
    if known_templates is not None:
        problems.extend(template_problems(definition, set(known_templates)))
    return problems


def graph_problems(definition: ProcessDefinition) -> list[Problem]:
    """Unique state ids, every state reachable, no open dead end, a reachable closed state."""
    problems = []
    ids = [s.id for s in definition.states]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(Problem(f"states.{dup}", "This state id is used twice."))
    reachable = _reachable(definition)
    for state in definition.states:
        if state.id not in reachable:
            problems.append(
                Problem(
                    f"states.{state.id}", "This state cannot be reached from the initial state."
                )
            )
        if state.final and state.category != "closed":
            problems.append(
                Problem(
                    f"states.{state.id}",
                    "This state has no way out but its category is not closed.",
                )
            )
    if not any(definition.state(s).category == "closed" for s in reachable):
        problems.append(
            Problem("states", "No closed state can be reached: tickets could never be closed.")
        )
    return problems


def _reachable(definition: ProcessDefinition) -> set[str]:
    """The states a ticket can get to from the initial one (by actions or customer messages)."""
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
    return reachable


def group_problems(definition: ProcessDefinition, known: set[str]) -> list[Problem]:
    """Groups named in rights (``visible_to``, an action's ``groups``) that do not exist."""
    problems = []
    for state in definition.states:
        for group in state.visible_to:
            if group not in known:
                problems.append(
                    Problem(f"states.{state.id}.visible_to", f"Unknown group '{group}'.")
                )
    for action in definition.actions:
        for group in action.groups:
            if group not in known:
                problems.append(Problem(f"actions.{action.id}.groups", f"Unknown group '{group}'."))
    return problems


def template_problems(definition: ProcessDefinition, known: set[str]) -> list[Problem]:
    """Templates the actions send that do not exist."""
    return [
        Problem(location, f"There is no template '{name}'.")
        for location, name in definition.templates_used()
        if name not in known
    ]


def language_warnings(definition: ProcessDefinition, languages: Iterable[str]) -> list[Problem]:
    """Warnings, not errors: each text given as a mapping of languages that lacks one of
    ``languages`` (the helpdesk's enabled ones; the viewer then reads the fallback). A text
    given as one string is not warned about."""
    found: list[tuple[str, Texts]] = [
        ("label", definition.labels),
        ("description", definition.descriptions),
    ]
    for state in definition.states:
        where = f"states.{state.id}"
        found += [(f"{where}.label", state.labels)]
        found += [(f"{where}.customer_label", state.customer_labels)]
    for action in definition.actions:
        where = f"actions.{action.id}"
        found += [(f"{where}.label", action.labels), (f"{where}.confirm", action.confirms)]
        for i, spec in enumerate(action.fields):
            found.append((f"{where}.fields[{i}].label", spec.labels))
            for j, choice in enumerate(spec.choices):
                found.append((f"{where}.fields[{i}].choices[{j}].label", choice.labels))
    wanted = list(languages)
    warnings = []
    for location, texts in found:
        lacking = missing(texts, wanted)
        if lacking:
            warnings.append(Problem(location, f"No text in {', '.join(lacking)}."))
    return warnings
