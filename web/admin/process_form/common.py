"""What the form's parts share: the choices its selects offer, the arguments each effect
takes, the YAML a draft is kept in, and fresh ids for new or clashing items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from statemachines import EFFECTS, FIELD_TYPES, RECIPIENTS, STATE_CATEGORIES

STYLES = ("default", "primary", "danger")

#: Every argument an effect may take, in the order the form shows them.
EFFECT_ARGS = (
    "body_field",
    "field",
    "note_field",
    "notes_field",
    "template",
    "to",
    "name",
    "outcome",
)

#: The arguments that name one of the action's own fields.
FIELD_ARGS = ("body_field", "field", "note_field", "notes_field")

#: A posted form: every input's values by its name (``request.form.to_dict(flat=False)``).
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


def fresh_id(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base_2``, ``base_3``, ... whichever is not taken yet."""
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"
