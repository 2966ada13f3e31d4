"""Routing rules, pure: data in (the rules, the new ticket's facts), a decision with its
reasons out. The first matching rule wins unless it says to continue (``stop`` false); a
later rule then adds what the earlier ones left unset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tempodesk.core.search import fold

# A condition's field: the ticket's facts by name, and custom fields as "field:<name>".
FIELDS = (
    "channel",
    "mailbox",
    "form",
    "customer_type",
    "organisation",
    "order",
    "subject",
    "body",
    "text",
    "language",
)
CUSTOM_FIELD = "field:"
# is / is_not: equal (case-insensitive); in: one of a list; contains: every keyword given
# (words, case and diacritics ignored); contains_any: one of them; is_set: not empty.
OPS = ("is", "is_not", "in", "contains", "contains_any", "is_set")
SETS = ("group", "assignee", "priority", "process", "fields", "skill")
MAX_CONDITIONS = 20
MAX_TEXT = 500


@dataclass
class Condition:
    field: str
    op: str
    value: Any = ""

    @property
    def label(self) -> str:
        return self.field.removeprefix(CUSTOM_FIELD)


@dataclass
class Rule:
    name: str
    conditions: list[Condition]
    outcome: dict[str, Any]
    stop: bool = True
    position: int = 0

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Rule:
        conditions = [
            Condition(str(c.get("field", "")), str(c.get("op", "")), c.get("value", ""))
            for c in doc.get("conditions") or []
        ]
        return cls(
            name=str(doc.get("name", "")),
            conditions=conditions,
            outcome=dict(doc.get("set") or {}),
            stop=bool(doc.get("stop", True)),
            position=int(doc.get("position") or 0),
        )


@dataclass
class Facts:
    """What a new ticket's rules may look at. ``customer_type`` stays empty until contacts
    have a type (see README, Routing)."""

    channel: str = ""
    mailbox: str = ""
    form: str = ""
    customer_type: str = ""
    organisation: str = ""
    order: str = ""
    subject: str = ""
    body: str = ""
    language: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        if name.startswith(CUSTOM_FIELD):
            return self.fields.get(name.removeprefix(CUSTOM_FIELD), "")
        if name == "text":
            return f"{self.subject}\n{self.body}"
        return getattr(self, name, "")


@dataclass
class Decision:
    """What the matching rules set, and why, one sentence per rule for the timeline."""

    outcome: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


def _words(text: Any) -> str:
    """Folded words of ``text`` between spaces, so a phrase matches whole words only."""
    return " " + " ".join(re.findall(r"\w+", fold(_text(text)))) + " "


def keywords(value: Any) -> list[str]:
    """A keyword condition's phrases: a list, or text separated by commas."""
    items = value if isinstance(value, list) else _text(value).split(",")
    return [" ".join(_words(i).split()) for i in items if _words(i).strip()]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def evidence(condition: Condition, facts: Facts) -> str | None:
    """Why ``condition`` holds (e.g. ``subject 'invoice'``), or None when it does not."""
    actual = facts.value(condition.field)
    label, op, want = condition.label, condition.op, condition.value
    if op == "is_set":
        return f"{label} is set" if _text(actual).strip() else None
    if op in ("is", "is_not"):
        same = _text(actual).strip().casefold() == _text(want).strip().casefold()
        if op == "is":
            return f"{label} '{_text(actual)}'" if same else None
        return f"{label} is not '{_text(want)}'" if not same else None
    if op == "in":
        items = want if isinstance(want, list) else _text(want).split(",")
        options = [str(o).strip().casefold() for o in items]
        return f"{label} '{_text(actual)}'" if _text(actual).strip().casefold() in options else None
    text = _words(actual)
    wanted = keywords(want)
    found = [k for k in wanted if f" {k} " in text]
    if op == "contains" and wanted and len(found) == len(wanted):
        return f"{label} '{' '.join(found)}'"
    if op == "contains_any" and found:
        return f"{label} '{found[0]}'"
    return None


def matches(rule: Rule, facts: Facts) -> list[str] | None:
    """Every condition's evidence when all hold (a rule without conditions matches all)."""
    reasons = []
    for condition in rule.conditions:
        why = evidence(condition, facts)
        if why is None:
            return None
        reasons.append(why)
    return reasons


def describe(outcome: dict[str, Any]) -> str:
    """What a rule sets, in a few words: "to Billing", "priority 1", "process returns"."""
    parts = []
    if outcome.get("group"):
        parts.append(f"to {outcome['group']}")
    if outcome.get("assignee"):
        parts.append(f"assigned to {outcome['assignee']}")
    if outcome.get("priority") not in (None, ""):
        parts.append(f"priority {outcome['priority']}")
    if outcome.get("process"):
        parts.append(f"process {outcome['process']}")
    if outcome.get("skill"):
        parts.append(f"needs skill {outcome['skill']}")
    for name, value in (outcome.get("fields") or {}).items():
        parts.append(f"{name} = {value}")
    return ", ".join(parts) or "nothing set"


def evaluate(rules: list[Rule], facts: Facts, only: tuple[str, ...] = SETS) -> Decision:
    """Run the rules in order of position: a matching rule sets what is still unset; the
    first that matches and stops ends the run. ``only`` keeps part of the outcome (the
    process is chosen at intake, the rest at the opening) without changing which rules
    match: both steps run the same rules the same way."""
    decision = Decision()
    for rule in sorted(rules, key=lambda r: r.position):
        reasons = matches(rule, facts)
        if reasons is None:
            continue
        added = {
            k: v
            for k, v in rule.outcome.items()
            if k in only and v not in (None, "", {}) and k not in decision.outcome
        }
        if added:
            decision.outcome.update(added)
            why = " and ".join(reasons) or "every ticket"
            decision.notes.append(f"{describe(added)}: rule '{rule.name}' matched {why}")
            decision.rules.append(rule.name)
        if rule.stop:
            break
    return decision


def problems(doc: dict[str, Any]) -> list[str]:
    """What is wrong with a rule as the API or the admin give it (names of groups, agents
    and processes are the store's to check)."""
    found = []
    if not str(doc.get("name") or "").strip():
        found.append("A rule needs a name.")
    elif len(str(doc["name"])) > 100:
        found.append("The name is longer than 100 characters.")
    if not isinstance(doc.get("position", 0), int) or isinstance(doc.get("position"), bool):
        found.append("The position must be a whole number.")
    conditions = doc.get("conditions") or []
    if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
        found.append(f"Conditions must be a list of at most {MAX_CONDITIONS}.")
        conditions = []
    for i, c in enumerate(conditions, 1):
        found.extend(_condition_problems(i, c))
    outcome = doc.get("set") or {}
    if not isinstance(outcome, dict):
        return [*found, "'set' must be an object."]
    unknown = sorted(set(outcome) - set(SETS))
    if unknown:
        found.append(f"'set' cannot set {', '.join(unknown)} (only {', '.join(SETS)}).")
    for key in ("group", "assignee", "process", "skill"):
        if outcome.get(key) is not None and not isinstance(outcome[key], str):
            found.append(f"'{key}' must be a name (a string).")
    priority = outcome.get("priority")
    if priority not in (None, "") and (not isinstance(priority, int) or not 1 <= priority <= 4):
        found.append("The priority must be 1 to 4.")
    if not isinstance(outcome.get("fields") or {}, dict):
        found.append("'fields' must be an object.")
    if not isinstance(doc.get("stop", True), bool):
        found.append("'stop' must be true or false.")
    return found


def _condition_problems(i: int, c: Any) -> list[str]:
    if not isinstance(c, dict):
        return [f"Condition {i} must be an object."]
    name, op, value = str(c.get("field", "")), c.get("op"), c.get("value", "")
    found = []
    if name not in FIELDS and not (name.startswith(CUSTOM_FIELD) and len(name) > 6):
        found.append(f"Condition {i}: unknown field '{name}'.")
    if op not in OPS:
        found.append(f"Condition {i}: unknown operator '{op}' (one of {', '.join(OPS)}).")
    if len(_text(value)) > MAX_TEXT:
        found.append(f"Condition {i}: the value is longer than {MAX_TEXT} characters.")
    if op in ("contains", "contains_any") and not keywords(value):
        found.append(f"Condition {i}: give at least one keyword.")
    return found
