"""Form -> document: the process document a posted form describes.

Inputs are named by position (``s2-label``, ``a0-f1-type``) and each state, action and field
carries the id it was shown with (``-orig``), so an id renamed in the form is followed in
every reference of the same document. An id that clashes with another (or is left empty) is
not taken; a problem says which id the item keeps. Optional keys are written only when they
differ from their default, so an untouched form gives back the document it showed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statemachines import Problem
from statemachines.definition import CATEGORY_COLOURS, SLA_PAUSED_BY_DEFAULT, STAY
from web.admin.process_form.common import FIELD_ARGS, Form, effect_args, fresh_id, posted_text


@dataclass
class FormResult:
    """The document a posted form describes, and what could not be taken as posted."""

    document: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    state_renames: dict[str, str] = field(default_factory=dict)  # shown id -> id now
    action_renames: dict[str, str] = field(default_factory=dict)


class Posted:
    """The posted form read the way the editor writes it: one text (CRLF made LF), the
    non-empty values of a multiple select, a checkbox, a count (at most 1000)."""

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
            chosen = (
                shown if shown and shown not in busy else fresh_id(shown or f"new_{kind}", busy)
            )
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


def document_from_form(form: Form, name: str) -> FormResult:
    """The document the posted form describes (before its operation is applied)."""
    posted = Posted(form)
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
        "label": posted_text(posted.one("label")),
        "description": posted_text(posted.one("description")),
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
    posted: Posted,
    prefix: str,
    action_ids: list[str],
    action_ref: Callable[[str], str],
    state_ref: Callable[[str], str],
) -> dict[str, Any]:
    label = posted_text(posted.one(f"{prefix}-label"))
    category = posted.one(f"{prefix}-category")
    doc: dict[str, Any] = {"label": label, "category": category}
    customer_label = posted_text(posted.one(f"{prefix}-customer_label"))
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
        if posted.flag(f"{prefix}-timeout_business"):
            doc["timeout"]["business"] = True
    return doc


def _action_document(
    posted: Posted, prefix: str, state_ref: Callable[[str], str]
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "label": posted_text(posted.one(f"{prefix}-label")),
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
    confirm = posted_text(posted.one(f"{prefix}-confirm"))
    if confirm:
        doc["confirm"] = confirm
    style = posted.one(f"{prefix}-style")
    if style and style != "default":
        doc["style"] = style
    if posted.flag(f"{prefix}-any_agent"):
        doc["any_agent"] = True
    if posted.flag(f"{prefix}-customers"):
        doc["customers"] = True
    return doc


def _field_document(posted: Posted, where: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "id": posted.one(f"{where}-id").strip(),
        "type": posted.one(f"{where}-type"),
        "label": posted_text(posted.one(f"{where}-label")),
    }
    if posted.flag(f"{where}-required"):
        spec["required"] = True
    choices = []
    for line in posted.one(f"{where}-choices").splitlines():
        if line.strip():
            value, _, label = line.partition("=")
            value = value.strip()
            choices.append({"value": value, "label": posted_text(label) or value})
    if choices:
        spec["choices"] = choices
    help_text = posted.one(f"{where}-help").strip()
    if help_text:
        spec["help"] = help_text
    max_length = posted.one(f"{where}-max_length").strip()
    if max_length:
        spec["max_length"] = int(max_length) if max_length.isdigit() else max_length
    return spec
