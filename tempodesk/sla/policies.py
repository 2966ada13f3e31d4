"""SLA policies and calendars: checking them (every problem located), choosing a ticket's
policy and pinning it (the calendar's document and the targets in business seconds).

Durations are written as a state's timeout is (``statemachines.durations``: "30m", "4h",
"3d", "1w"), in **business time** of the policy's calendar: ``m`` and ``h`` are minutes and
hours of working time; ``d`` is one working day of that calendar (its working time in a week
over the days that have any: 9 hours for Monday to Friday 08:00-17:00) and ``w`` five such
days, so "3d" from Monday 10:00 is Thursday 10:00.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statemachines import PRIORITIES
from statemachines.calendar import Calendar, CalendarError
from tempodesk.contracts import (
    SLA_ACTION_KINDS,
    SLA_TARGETS,
    PinnedSla,
    SelectSlaInput,
    SlaAction,
)
from tempodesk.core.models import BusinessCalendar, Contact, SlaPolicy, Ticket
from tempodesk.sla.contracts import contracts_of, customer_type_of

_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
CONDITIONS = (
    "priority",
    "channel",
    "process",
    "organisation",
    "group",
    "field",
    "customer_type",
    "contract",
)
NOTIFY_TO = ("assignee", "group", "supervisor")


class PolicyProblems(ValueError):
    """A policy or calendar that cannot be saved; ``problems`` say where and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_calendar(document: dict[str, Any]) -> Calendar:
    """The calendar of a document, refused with located problems (also: no working hours)."""
    try:
        calendar = Calendar.from_dict(document)
    except CalendarError as exc:
        raise PolicyProblems(exc.problems) from None
    if not any(calendar.hours):
        raise PolicyProblems(["hours: the calendar has no working hours at all"])
    return calendar


def working_day(calendar: Calendar) -> timedelta:
    """One working day of business time: the week's working time over its working days."""
    return calendar.working_day()


def business_seconds(text: str, calendar: Calendar) -> int | None:
    """Seconds of business time in "45m", "4h", "3d" or "1w"; None if not such a duration."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        return None
    count, unit = int(match.group(1)), match.group(2)
    per = {"m": 60.0, "h": 3600.0}.get(unit)
    if per is None:
        per = working_day(calendar).total_seconds() * (5 if unit == "w" else 1)
    return int(count * per)


@dataclass
class PolicyForm:
    """A policy as an admin writes it (the admin page's fields, the demo's data)."""

    name: str
    calendar: str
    targets: dict[str, str] = field(default_factory=dict)  # target -> "4h"
    conditions: dict[str, Any] = field(default_factory=dict)
    warn_percent: int = 80
    on_warning: list[dict[str, Any]] = field(default_factory=list)
    on_breach: list[dict[str, Any]] = field(default_factory=list)
    position: int = 0
    active: bool = True


def check_policy(session: Session, form: PolicyForm) -> list[str]:
    """Every problem of the policy, located ("targets.resolution: …")."""
    problems: list[str] = []
    if not form.name.strip() or len(form.name) > 100:
        problems.append("name: give a name of at most 100 characters")
    row = session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == form.calendar))
    calendar = None
    if row is None:
        problems.append(f"calendar: no calendar {form.calendar!r}")
    else:
        calendar = Calendar.from_dict(row.document)
    for target, text in form.targets.items():
        if target not in SLA_TARGETS:
            problems.append(f"targets.{target}: unknown target (use {', '.join(SLA_TARGETS)})")
        elif text and business_seconds(text, calendar or Calendar.always()) is None:
            problems.append(f"targets.{target}: {text[:20]!r} is not a duration like 4h or 3d")
    if not any(form.targets.values()):
        problems.append("targets: give at least one target")
    if not 1 <= form.warn_percent <= 100:
        problems.append("warn_percent: must be between 1 and 100")
    problems += _check_conditions(form.conditions)
    for key in ("on_warning", "on_breach"):
        for index, action in enumerate(getattr(form, key)):
            problems += [f"{key}[{index}].{p}" for p in _check_action(action)]
    return problems


def _check_conditions(conditions: Any) -> list[str]:
    if not isinstance(conditions, dict):
        return ["conditions: must map a condition to the values it accepts"]
    problems = [
        f"conditions.{name}: unknown condition (use {', '.join(CONDITIONS)})"
        for name in conditions
        if name not in CONDITIONS
    ]
    for name in ("priority", "channel", "process", "organisation", "group", "customer_type"):
        if name in conditions and not isinstance(conditions[name], list):
            problems.append(f"conditions.{name}: must be a list of values")
    priorities = conditions.get("priority")
    for value in priorities if isinstance(priorities, list) else []:
        if value not in PRIORITIES:
            problems.append(f"conditions.priority: {value!r} is not a priority (1-4)")
    if "contract" in conditions and not isinstance(conditions["contract"], bool | list):
        problems.append("conditions.contract: true, false or a list of contract references")
    if "field" in conditions and not isinstance(conditions["field"], dict):
        problems.append("conditions.field: must map a field's name to its value")
    return problems


def _check_action(action: Any) -> list[str]:
    if not isinstance(action, dict) or action.get("kind") not in SLA_ACTION_KINDS:
        return [f"kind: one of {', '.join(SLA_ACTION_KINDS)}"]
    kind = action["kind"]
    if kind == "notify" and (not action.get("template") or action.get("to") not in NOTIFY_TO):
        return [f"notify needs a template and to: {' | '.join(NOTIFY_TO)}"]
    if kind == "escalate" and not action.get("group"):
        return ["escalate needs a group"]
    if kind == "perform" and not action.get("action"):
        return ["perform needs a process action"]
    return []


def save_policy(session: Session, form: PolicyForm, actor: str, policy_id: int | None) -> int:
    """Create or change a policy (refused with its problems); its id."""
    problems = check_policy(session, form)
    if problems:
        raise PolicyProblems(problems)
    calendar = session.scalar(
        select(BusinessCalendar).where(BusinessCalendar.name == form.calendar)
    )
    assert calendar is not None
    row = session.get(SlaPolicy, policy_id) if policy_id else None
    if row is None:
        row = SlaPolicy(name=form.name)
        session.add(row)
    row.name, row.position, row.active = form.name.strip(), form.position, form.active
    row.conditions, row.calendar_id = form.conditions, calendar.id
    for target in SLA_TARGETS:
        setattr(row, target, form.targets.get(target) or None)
    row.warn_percent = form.warn_percent
    row.on_warning, row.on_breach = list(form.on_warning), list(form.on_breach)
    row.updated_by = actor
    session.flush()
    return row.id


def save_calendar(
    session: Session, name: str, document: dict[str, Any], actor: str, calendar_id: int | None
) -> int:
    """Create or change a calendar (refused with its problems); its id."""
    problems = [] if name.strip() and len(name) <= 100 else ["name: at most 100 characters"]
    try:
        document = read_calendar(document).to_dict()
    except PolicyProblems as exc:
        problems += exc.problems
    if problems:
        raise PolicyProblems(problems)
    row = session.get(BusinessCalendar, calendar_id) if calendar_id else None
    if row is None:
        row = BusinessCalendar(name=name)
        session.add(row)
    row.name, row.document, row.updated_by = name.strip(), document, actor
    session.flush()
    return row.id


def default_calendar(session: Session) -> dict[str, Any] | None:
    """The calendar of business-time state timeouts on tickets without a policy: the first
    calendar made (the demo's "Prague office"); None: there is none (wall-clock time)."""
    row = session.scalar(select(BusinessCalendar).order_by(BusinessCalendar.id).limit(1))
    return dict(row.document) if row is not None else None


# Choosing a ticket's policy


def select_policy(
    session: Session, ticket: SelectSlaInput, day: date | None = None
) -> PinnedSla | None:
    """The policy of the customer's valid contract (decision: a contract names its service
    level, so it wins over every policy's conditions; an inactive one does not count), else
    the first active policy by position whose conditions all match; pinned."""
    day = day or datetime.now(UTC).date()
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id is not None else None
    valid = contracts_of(session, contact, day)
    for contract in valid:
        policy = session.get(SlaPolicy, contract.policy_id) if contract.policy_id else None
        if policy is not None and policy.active:
            calendar = session.get(BusinessCalendar, policy.calendar_id)
            if calendar is not None:
                return pin(policy, calendar)
    customer = CustomerFacts(
        organisation=contact.organisation.name if contact and contact.organisation else None,
        customer_type=customer_type_of(contact),
        contracts=[c.reference for c in valid],
    )
    policies = session.scalars(
        select(SlaPolicy)
        .where(SlaPolicy.active.is_(True))
        .order_by(SlaPolicy.position, SlaPolicy.id)
    )
    for policy in policies:
        if matches(policy.conditions or {}, ticket, customer):
            calendar = session.get(BusinessCalendar, policy.calendar_id)
            if calendar is not None:
                return pin(policy, calendar)
    return None


@dataclass
class CustomerFacts:
    """What the conditions read of the ticket's customer."""

    organisation: str | None = None
    customer_type: str | None = None
    contracts: list[str] = field(default_factory=list)  # references of the valid ones


def matches(
    conditions: dict[str, Any], ticket: SelectSlaInput, customer: CustomerFacts | str | None
) -> bool:
    """Whether every condition given accepts the ticket (no conditions: every ticket).
    ``contract``: true (any valid contract), false (none) or references (one of them)."""
    if not isinstance(customer, CustomerFacts):
        customer = CustomerFacts(organisation=customer)
    facts: dict[str, Any] = {
        "priority": ticket.priority,
        "channel": ticket.channel,
        "process": ticket.process_name,
        "organisation": customer.organisation,
        "group": ticket.group,
        "customer_type": customer.customer_type,
    }
    for name, accepted in conditions.items():
        if name == "field":
            if any(ticket.fields.get(k) != v for k, v in (accepted or {}).items()):
                return False
        elif name == "contract":
            if isinstance(accepted, bool) and accepted != bool(customer.contracts):
                return False
            listed = accepted if isinstance(accepted, list) else []
            if listed and not set(listed) & set(customer.contracts):
                return False
        elif name in facts and accepted and facts[name] not in accepted:
            return False
    return True


def pin(policy: SlaPolicy, calendar_row: BusinessCalendar) -> PinnedSla:
    """What a ticket runs under: the calendar's document and business seconds per target."""
    calendar = Calendar.from_dict(calendar_row.document)
    targets = {}
    for target in SLA_TARGETS:
        text = getattr(policy, target)
        seconds = business_seconds(text, calendar) if text else None
        if seconds:
            targets[target] = seconds
    pinned = PinnedSla(
        policy_id=policy.id,
        policy_name=policy.name,
        calendar=calendar.to_dict(),
        targets=targets,
        warn_percent=policy.warn_percent,
        on_warning=[_action(a) for a in policy.on_warning or []],
        on_breach=[_action(a) for a in policy.on_breach or []],
    )
    body = json.dumps(
        [pinned.calendar, targets, pinned.warn_percent, policy.on_warning, policy.on_breach],
        sort_keys=True,
    )
    pinned.revision = hashlib.sha256(body.encode()).hexdigest()[:16]
    return pinned


def _action(raw: dict[str, Any]) -> SlaAction:
    return SlaAction(
        kind=str(raw.get("kind", "")),
        template=str(raw.get("template", "")),
        to=str(raw.get("to", "")),
        group=str(raw.get("group", "")),
        action=str(raw.get("action", "")),
    )


def affected_tickets(session: Session, calendar_id: int | None = None) -> list[str]:
    """The open tickets a change may concern: every one for a policy (its conditions may now
    choose others), those under a policy of the calendar for a calendar."""
    rows = session.execute(
        select(Ticket.number, Ticket.sla).where(Ticket.state_category.not_in(("closed", "merged")))
    ).all()
    if calendar_id is None:
        return [number for number, _sla in rows]
    policies = set(
        session.scalars(select(SlaPolicy.id).where(SlaPolicy.calendar_id == calendar_id))
    )
    return [
        number
        for number, sla in rows
        if sla and (sla.get("policy") or {}).get("policy_id") in policies
    ]
