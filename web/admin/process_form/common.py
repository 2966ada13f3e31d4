"""What the form's parts share: the choices its selects offer, the arguments each effect
takes, the YAML a draft is kept in, and fresh ids for new or clashing items."""

from __future__ import annotations

import re
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


#: A text in several languages, as one input of the form shows it: ``en: New | de: Neu``.
_LANGUAGE_PART = re.compile(r"^\s*([a-z]{2}):\s*(\S.*?)\s*$", re.DOTALL)
LANGUAGE_SEPARATOR = " | "


def text_field(value: Any) -> str:
    """A definition's text for one input: as it is, or a mapping of languages written as
    ``en: New | de: Neu``."""
    if isinstance(value, Mapping):
        return LANGUAGE_SEPARATOR.join(f"{code}: {text}" for code, text in value.items())
    return "" if value is None else str(value)


def posted_text(text: str) -> str | dict[str, str]:
    """An input's text back into the definition: ``en: New | de: Neu`` (every part a
    language code and its text) is a mapping of languages; anything else is one text."""
    text = text.strip()
    parts = [_LANGUAGE_PART.match(part) for part in text.split(LANGUAGE_SEPARATOR.strip())]
    if not text or not all(parts):
        return text
    found = {m.group(1): m.group(2) for m in parts if m}
    return found if len(found) == len(parts) else text
