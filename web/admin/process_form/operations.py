"""The form's buttons: which operation was pressed, and applying it to the posted document
(add, remove or move a state, action, field or effect)."""

from __future__ import annotations

import re
from typing import Any

from statemachines.definition import STAY
from web.admin.process_form.common import Form, fresh_id
from web.admin.process_form.to_document import FormResult, Posted

_OPERATION = re.compile(
    r"^(save|publish|add_state|add_action"
    r"|(?:remove|up|down)_(?:state|action):[^:]*"
    r"|add_(?:field|effect):[^:]*"
    r"|remove_(?:field|effect):[^:]*:\d+)$"
)

_ACTION_KEY_ORDER = (
    "label",
    "target",
    "fields",
    "effects",
    "groups",
    "confirm",
    "style",
    "any_agent",
    "customers",
)


def operation(form: Form) -> str:
    """The operation of the button pressed (``save`` when there is none or it is unknown)."""
    value = Posted(form).one("op")
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
        state_id = fresh_id("new_state", states)
        states[state_id] = {"label": "New state", "category": "open", "actions": []}
        return f"state-{state_id}"
    if verb == "add_action":
        action_id = fresh_id("new_action", actions)
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
        field_id = fresh_id(f"field_{len(items) + 1}", [str(f.get("id")) for f in items])
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
