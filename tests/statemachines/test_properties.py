"""Properties of the definition compiler and the rules, over generated processes and values.

Whatever an admin types, reading a definition ends in a definition or a located
``DefinitionError``, never another exception; what is accepted compiles, survives its pinned
JSON form, and its machine moves exactly where the definition says. The rules never grant
more than they show, and cleaning field values is total and stable.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statemachines import (
    CUSTOMER_MESSAGE,
    STATE_CATEGORIES,
    DefinitionError,
    FieldErrors,
    ProcessDefinition,
    actions_for,
    bundled,
    check_action,
    clean_fields,
    coerce_form,
    compile_definition,
    from_json,
    load_text,
    may_perform,
    may_see,
    move,
    parse_definition,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("TEMPODESK_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SUPPORT = load_text(bundled("support"))
GROUPS = ["support", "billing", "tech"]

# Any value YAML or JSON could hand the reader.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document where a value sits."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


DEFAULT_DOCUMENT = yaml.safe_load(bundled("support"))
DEFAULT_PATHS = _paths(DEFAULT_DOCUMENT)[1:]


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(document)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return changed


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(DEFAULT_PATHS), json_values), min_size=1, max_size=3))
def test_a_damaged_definition_is_refused_with_located_problems_or_still_runs(
    edits: list[tuple[tuple[Any, ...], Any]],
) -> None:
    document: Any = DEFAULT_DOCUMENT
    for path, value in edits:
        try:
            document = _replaced(document, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed the place
    try:
        definition = parse_definition(document, known_groups=GROUPS)
    except DefinitionError as exc:
        assert exc.problems
        assert all(problem.message for problem in exc.problems)
        return
    _assert_runs_as_defined(definition)


@dataclass
class _Actor:
    username: str = "eva"
    groups: list[str] = field(default_factory=list)
    is_admin: bool = False
    kind: str = "agent"


@st.composite
def processes(draw: st.DrawFn) -> dict[str, Any]:
    """A process of 2-7 states joined in a line that reaches a closed state, with
    generated extra actions, targets, rights and customer-message moves."""
    count = draw(st.integers(2, 7))
    ids = [f"s{i}" for i in range(count)]
    categories = [c for c in STATE_CATEGORIES if c != "closed"]
    actions: dict[str, Any] = {}
    states: dict[str, Any] = {}
    for index, state_id in enumerate(ids[:-1]):
        # The line: each state's first action moves to the next, so everything is reachable.
        forward = f"to_{ids[index + 1]}"
        actions[forward] = {"label": f"To {index + 1}", "target": ids[index + 1]}
        state: dict[str, Any] = {
            "label": f"State {index}",
            "category": draw(st.sampled_from(categories)),
            "actions": [forward],
        }
        if draw(st.booleans()):
            state["visible_to"] = draw(st.lists(st.sampled_from(GROUPS), min_size=1, unique=True))
        if draw(st.booleans()):
            state["on_customer_message"] = draw(st.sampled_from([*ids[:-1], "stay"]))
        states[state_id] = state
    for number in range(draw(st.integers(0, 5))):
        action_id = f"extra_{number}"
        action: dict[str, Any] = {
            "label": f"Extra {number}",
            "target": draw(st.sampled_from([*ids, "stay"])),
        }
        if draw(st.booleans()):
            action["groups"] = draw(st.lists(st.sampled_from(GROUPS), min_size=1, unique=True))
        actions[action_id] = action
        for state_id in draw(st.lists(st.sampled_from(ids[:-1]), unique=True)):
            states[state_id]["actions"].append(action_id)
    states[ids[-1]] = {"label": "Closed", "category": "closed"}
    return {
        "name": "generated",
        "label": "Generated",
        "initial": ids[0],
        "assignee_only": draw(st.booleans()),
        "states": states,
        "actions": actions,
    }


@SETTINGS
@given(processes())
def test_a_generated_process_compiles_and_moves_where_its_definition_says(
    document: dict[str, Any],
) -> None:
    definition = parse_definition(document, known_groups=GROUPS)
    _assert_runs_as_defined(definition)


def _assert_runs_as_defined(definition: ProcessDefinition) -> None:
    compiled = compile_definition(definition)
    pinned = from_json(definition.to_json())
    assert pinned.to_json() == definition.to_json()
    for state in definition.states:
        for action in definition.actions_in(state.id):
            machine, _ = compiled.machine(state.id)
            assert move(machine, action.id) == definition.target_of(state.id, action)
        if not state.final:
            machine, _ = compiled.machine(state.id)
            assert move(machine, CUSTOMER_MESSAGE) == definition.customer_message_target(state.id)


actors = st.builds(
    _Actor,
    username=st.sampled_from(["eva", "petr", "admin"]),
    groups=st.lists(st.sampled_from(GROUPS), unique=True),
    is_admin=st.booleans(),
    kind=st.sampled_from(["agent", "agent", "system", "customer"]),
)


@SETTINGS
@given(processes(), actors, st.sampled_from([None, "eva", "petr"]), st.data())
def test_rights_never_grant_more_than_they_show(
    document: dict[str, Any], actor: _Actor, assignee: str | None, data: st.DataObject
) -> None:
    definition = parse_definition(document, known_groups=GROUPS)
    state = data.draw(st.sampled_from(definition.states))
    buttons = actions_for(definition, state.id, actor, assignee)
    assert set(buttons) <= set(definition.actions_in(state.id))
    if buttons:
        assert may_see(definition, state.id, actor)
    for action in definition.actions_in(state.id):
        decided = check_action(
            definition, state.id, action.id, actor, assignee=assignee, customer_email="c@x.test"
        )
        allowed = actor.kind in ("agent", "system") and may_perform(
            definition, state.id, action, actor, assignee
        )
        assert (decided is action) == allowed
        assert (action in buttons) == may_perform(definition, state.id, action, actor, assignee)


field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=300),
    st.lists(st.text(max_size=20), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@SETTINGS
@given(st.sampled_from(SUPPORT.actions), st.data())
def test_cleaning_field_values_is_total_and_stable(action: Any, data: st.DataObject) -> None:
    keys = [spec.id for spec in action.fields] + ["unknown"]
    values = data.draw(st.dictionaries(st.sampled_from(keys), field_values))
    try:
        clean = clean_fields(action, values, claimed=False)
    except FieldErrors as exc:
        assert exc.errors
        assert set(exc.errors) <= set(keys)
        return
    assert set(clean) <= {spec.id for spec in action.fields}
    assert clean_fields(action, clean, claimed=False) == clean


@SETTINGS
@given(st.sampled_from(SUPPORT.actions), st.data())
def test_any_form_post_coerces_to_values_the_rules_accept_or_explain(
    action: Any, data: st.DataObject
) -> None:
    keys = [spec.id for spec in action.fields] + ["csrf_token"]
    form = data.draw(st.dictionaries(st.sampled_from(keys), st.lists(st.text(max_size=40))))
    values = coerce_form(action, form)
    assert set(values) == {spec.id for spec in action.fields}
    try:
        clean_fields(action, values, claimed=False)
    except FieldErrors as exc:
        assert set(exc.errors) <= set(values)
