"""Process texts in the viewer's language: a definition's label, customer label, description
or confirmation question may be one string (the shipped processes' are msgids, translated
through the catalog; an admin's are shown as written) or a mapping of language -> text, read
along the fallback chain: the viewer's language, the helpdesk's default, English, the first.
"""

from __future__ import annotations

from typing import Any

from flask import g

from statemachines import ProcessDefinition, StateSpec, in_language
from tempodesk.core.languages import chain
from web.i18n.locale import current_language, helpdesk_language
from web.i18n.translate import translate_message

#: The attribute holding each text's languages.
_TEXTS = {
    "label": "labels",
    "customer_label": "customer_labels",
    "confirm": "confirms",
    "description": "descriptions",
}


def label_order() -> tuple[str, ...]:
    """Where to look for a text, best first, for this request's viewer."""
    return chain(current_language(), helpdesk_language())


def spec_text(spec: Any, attr: str = "label") -> str:
    """A spec's text (state, action, field, choice, process) in the viewer's language: from
    its mapping when the definition gave one, else its string through the catalog."""
    text = str(getattr(spec, attr, "") or "")
    texts = getattr(spec, _TEXTS[attr], ())
    if attr == "customer_label" and not texts and text == getattr(spec, "label", None):
        texts = getattr(spec, "labels", ())  # no wording of its own for customers
    if texts:
        return in_language(text, texts, label_order())
    return translate_message(text)


def _state(ticket: Any) -> StateSpec | None:
    """The state a projection row is in, from its pinned version (read once a request)."""
    from tempodesk.tickets import processes
    from web import db

    cache: dict[tuple[str, int], ProcessDefinition | None] = g.setdefault("process_specs", {})
    key = (ticket.process_name, ticket.process_version)
    if key not in cache:
        try:
            cache[key] = processes.definition(db(), *key)
        except processes.UnknownProcess:
            cache[key] = None
    definition = cache[key]
    if definition is None:
        return None
    try:
        return definition.state(ticket.state)
    except KeyError:
        return None


def state_text(ticket: Any) -> str:
    """A ticket's state (a projection row: the desk's lists, a contact's tickets) in the
    viewer's language; the stored label through the catalog when its state has no mapping."""
    state = _state(ticket)
    if state is None or not state.labels:
        return translate_message(ticket.state_label)
    return spec_text(state)
