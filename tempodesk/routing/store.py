"""The routing data admins edit: rules (checked, with the names they use), each group's
strategy, agents' availability and skills; every change audited (``routing_rule.create`` /
``.update`` / ``.delete``, ``group_routing.update``, ``agent_routing.update``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tempodesk.core import audit
from tempodesk.core.models import (
    AgentRouting,
    AgentSkill,
    Group,
    GroupRouting,
    ProcessVersion,
    RoutingRule,
    User,
    utcnow,
)
from tempodesk.routing.rules import Rule, problems
from tempodesk.routing.strategies import AVAILABILITY, STRATEGIES

MAX_SKILL = 64
GROUP_AUDITED = ("strategy", "max_open", "reroute_minutes")


class RuleProblems(ValueError):
    def __init__(self, found: list[str]) -> None:
        super().__init__(" ".join(found))
        self.problems = found


def rules(session: Session) -> list[RoutingRule]:
    """Every rule, in the order they run."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def active_rules(session: Session) -> list[Rule]:
    """The enabled rules as the pure evaluation takes them."""
    return [Rule.from_dict(rule_doc(r)) for r in rules(session) if r.enabled]


def rule_doc(rule: RoutingRule) -> dict[str, Any]:
    """A rule as the API shows it."""
    return {
        "id": rule.id,
        "name": rule.name,
        "position": rule.position,
        "conditions": list(rule.conditions or []),
        "set": dict(rule.outcome or {}),
        "stop": rule.stop,
        "enabled": rule.enabled,
    }


def check_rule(session: Session, doc: Any) -> list[str]:
    """The rule's own problems, then the groups, agents and processes it names."""
    if not isinstance(doc, dict):
        return ["A rule is a JSON object."]
    found = problems(doc)
    given = doc.get("set")
    outcome: dict[str, Any] = given if isinstance(given, dict) else {}
    names = (
        ("group", Group.name, "There is no group '{}'."),
        ("assignee", User.username, "There is no agent '{}'."),
        ("process", ProcessVersion.name, "There is no published process '{}'."),
    )
    for key, column, message in names:
        value = outcome.get(key)
        if value and session.scalar(select(column).where(column == str(value)).limit(1)) is None:
            found.append(message.format(value))
    if len(str(outcome.get("skill") or "")) > MAX_SKILL:
        found.append(f"A skill's name is at most {MAX_SKILL} characters.")
    return found


def save_rule(
    session: Session, doc: Any, actor: str, rule: RoutingRule | None = None
) -> RoutingRule:
    """Create (``rule`` None) or replace a rule; raises ``RuleProblems``."""
    found = check_rule(session, doc)
    if found:
        raise RuleProblems(found)
    before = rule_doc(rule) if rule is not None else None
    if rule is None:
        rule = RoutingRule()
        session.add(rule)
    rule.name = str(doc["name"]).strip()
    rule.position = int(doc.get("position") or 0)
    rule.conditions = [
        {"field": c["field"], "op": c["op"], "value": c.get("value", "")}
        for c in doc.get("conditions") or []
    ]
    rule.outcome = {k: v for k, v in (doc.get("set") or {}).items() if v not in (None, "", {})}
    rule.stop = bool(doc.get("stop", True))
    rule.enabled = bool(doc.get("enabled", True))
    rule.updated_at, rule.updated_by = utcnow(), actor
    session.flush()
    verb = "routing_rule.update" if before is not None else "routing_rule.create"
    audit.record(
        session,
        verb,
        actor=actor,
        object_type="routing_rule",
        object_id=rule.id,
        before=before,
        after=rule_doc(rule),
    )
    return rule


def delete_rule(session: Session, rule_id: int, actor: str = "") -> bool:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        return False
    audit.record(
        session,
        "routing_rule.delete",
        actor=actor,
        object_type="routing_rule",
        object_id=rule_id,
        before=rule_doc(rule),
    )
    session.delete(rule)
    return True


def group_settings(session: Session) -> list[tuple[str, GroupRouting]]:
    """Every group with its routing (the defaults where none is stored yet)."""
    stored = {g.group_name: g for g in session.scalars(select(GroupRouting))}
    names = session.scalars(select(Group.name).order_by(Group.name))
    return [
        (
            n,
            stored.get(n)
            or GroupRouting(group_name=n, strategy="manual", max_open=0, reroute_minutes=0),
        )
        for n in names
    ]


def set_group_routing(
    session: Session,
    group: str,
    strategy: str,
    max_open: int,
    reroute_minutes: int,
    actor: str = "",
) -> None:
    if strategy not in STRATEGIES:
        raise RuleProblems([f"Unknown strategy '{strategy}'."])
    if not 0 <= max_open <= 10_000 or not 0 <= reroute_minutes <= 60 * 24 * 30:
        raise RuleProblems(["The cap or the timeout is out of range."])
    row = session.get(GroupRouting, group)
    if row is None:
        row = GroupRouting(group_name=group, rr_last="", turns=0)
        session.add(row)
    before = audit.snapshot(row, GROUP_AUDITED)
    row.strategy, row.max_open, row.reroute_minutes = strategy, max_open, reroute_minutes
    audit.record(
        session,
        "group_routing.update",
        actor=actor,
        object_type="group",
        object_id=group,
        before=before,
        after=audit.snapshot(row, GROUP_AUDITED),
    )


def agent_routing(session: Session, username: str) -> AgentRouting:
    row = session.get(AgentRouting, username)
    return row or AgentRouting(username=username, availability="present", calendar="")


def set_availability(
    session: Session, username: str, availability: str, calendar: str, actor: str = ""
) -> None:
    if availability not in AVAILABILITY:
        raise RuleProblems([f"Unknown availability '{availability}'."])
    row = session.get(AgentRouting, username)
    if row is None:
        row = AgentRouting(username=username)
        session.add(row)
    before = audit.snapshot(row, ("availability", "calendar"))
    row.availability, row.calendar = availability, calendar[:100]
    after = audit.snapshot(row, ("availability", "calendar"))
    if after != before:
        audit.record(
            session,
            "agent_routing.update",
            actor=actor,
            object_type="user",
            object_id=username,
            before=before,
            after=after,
        )


def skills_of(session: Session, username: str) -> dict[str, int]:
    rows = session.scalars(select(AgentSkill).where(AgentSkill.username == username))
    return {r.skill: r.level for r in rows}


def parse_skills(text: str) -> dict[str, int]:
    """ "billing:3, german:5, phone" → levels (a skill without one is at level 1)."""
    found: dict[str, int] = {}
    for part in text.split(","):
        name, _, level = part.strip().partition(":")
        name = name.strip()[:MAX_SKILL]
        if name:
            found[name] = max(1, min(5, int(level))) if level.strip().isdigit() else 1
    return found


def set_skills(session: Session, username: str, skills: dict[str, int], actor: str = "") -> None:
    before = skills_of(session, username)
    if before != skills:
        audit.record(
            session,
            "agent_routing.update",
            actor=actor,
            object_type="user",
            object_id=username,
            before={"skills": before},
            after={"skills": skills},
        )
    session.execute(delete(AgentSkill).where(AgentSkill.username == username))
    for name, level in sorted(skills.items()):
        session.add(AgentSkill(username=username, skill=name, level=level))
