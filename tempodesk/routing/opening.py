"""A new ticket's routing in its opening step (one transaction with the rest of it): the
rules, then who gets it. Account owner and channel owner come first where configured (the
cascade), then the group's strategy, then the helpdesk's default assignee.

Every opening that assigns in a group by a strategy first updates the group's
``group_routing`` row: that row stays locked until the opening commits, so concurrent
openings of one group take turns (round robin stays fair; least-loaded counts see the
tickets the others just opened), on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from statemachines.calendar import Calendar, CalendarError
from tempodesk.contracts import AssignmentResult, TicketSnapshot
from tempodesk.core.models import (
    AgentRouting,
    AgentSkill,
    BusinessCalendar,
    Contact,
    Group,
    GroupRouting,
    Membership,
    Message,
    Organisation,
    Ticket,
    User,
)
from tempodesk.routing.rules import SETS, Facts, Rule, evaluate
from tempodesk.routing.store import active_rules
from tempodesk.routing.strategies import Candidate, choose

OPEN_CATEGORIES = ("new", "open", "pending")
MAX_BODY = 20_000  # keywords are looked for in the first 20,000 characters


@dataclass
class Routed:
    """Who and where, and what the rules set; ``notes`` explain it on the timeline."""

    assignment: AssignmentResult
    priority: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reroute_minutes: int = 0


AT_OPENING = tuple(s for s in SETS if s != "process")  # the process is pinned at intake
AGAIN = ("group", "assignee", "skill")  # a ticket routed again keeps its priority and fields


def route_opening(
    session: Session,
    facts: Facts,
    cascade: AssignmentResult,
    at: datetime,
    *,
    only: tuple[str, ...] = AT_OPENING,
    exclude: str = "",
    process: str = "",
) -> Routed:
    """Apply the rules over the cascade's result (``only`` what they may set), then the
    group's strategy (never choosing ``exclude``, the agent who let it wait)."""
    rules = active_rules(session)
    decision = evaluate(rules, facts, only=only)
    outcome, notes = decision.outcome, _pinned_by(rules, facts, process) + decision.notes
    group = _existing_group(session, outcome.get("group")) or cascade.group
    moved = group != cascade.group
    routed = Routed(
        AssignmentResult(cascade.assignee, group, cascade.reason),
        priority=outcome.get("priority"),
        fields=dict(outcome.get("fields") or {}),
        notes=notes,
    )
    settings = session.get(GroupRouting, group) if group else None
    routed.reroute_minutes = settings.reroute_minutes if settings else 0
    wanted = outcome.get("assignee")
    active = select(User.id).where(User.username == wanted, User.is_active)
    if wanted and wanted != exclude and session.scalar(active):
        routed.assignment = AssignmentResult(wanted, group, "rule")
        return routed
    if cascade.reason == "account_owner" or (cascade.reason == "channel_owner" and not moved):
        return routed
    if group and settings is not None and settings.strategy != "manual":
        skill = str(outcome.get("skill") or facts.fields.get("skill") or "")
        chosen = _by_strategy(session, settings, skill, at, exclude)
        notes.append(
            f"{group}: {chosen.reason}" + (f" → {chosen.assignee}" if chosen.assignee else "")
        )
        if chosen.assignee:
            routed.assignment = AssignmentResult(chosen.assignee, group, "strategy")
            return routed
    if moved and cascade.reason in ("channel_owner", "default"):
        routed.assignment = AssignmentResult(None, group, "rule")
    return routed


def _pinned_by(rules: list[Rule], facts: Facts, process: str) -> list[str]:
    """The reason for the process, if the rules chose it at intake (where the customer was
    not linked yet: no organisation, no customer type)."""
    if not process:
        return []
    at_intake = replace(facts, organisation="", customer_type="")
    chosen = evaluate(rules, at_intake, only=("process",))
    return chosen.notes if chosen.outcome.get("process") == process else []


def _existing_group(session: Session, name: Any) -> str | None:
    if not name:
        return None
    return session.scalar(select(Group.name).where(Group.name == str(name)))


def _by_strategy(
    session: Session, settings: GroupRouting, skill: str, at: datetime, exclude: str = ""
) -> Any:
    # The lock first (see the module's docstring), then the reads.
    session.execute(
        update(GroupRouting)
        .where(GroupRouting.group_name == settings.group_name)
        .values(turns=GroupRouting.turns + 1)
    )
    session.refresh(settings)
    candidates = [
        c for c in candidates_of(session, settings.group_name, skill, at) if c.username != exclude
    ]
    chosen = choose(
        settings.strategy,
        candidates,
        last=settings.rr_last,
        max_open=settings.max_open,
        skill=skill,
    )
    if chosen.assignee and settings.strategy == "round_robin":
        settings.rr_last = chosen.assignee
    return chosen


def candidates_of(session: Session, group: str, skill: str, at: datetime) -> list[Candidate]:
    """The group's active members: their open tickets, availability now and skill level."""
    members = list(
        session.scalars(
            select(User.username)
            .join(Membership, Membership.user_id == User.id)
            .join(Group, Group.id == Membership.group_id)
            .where(Group.name == group, User.is_active)
        )
    )
    if not members:
        return []
    load = dict(
        session.execute(
            select(Ticket.assignee, func.count())
            .where(Ticket.assignee.in_(members), Ticket.state_category.in_(OPEN_CATEGORIES))
            .group_by(Ticket.assignee)
        ).all()
    )
    levels = dict(
        session.execute(
            select(AgentSkill.username, AgentSkill.level).where(
                AgentSkill.username.in_(members), AgentSkill.skill == skill
            )
        ).all()
    )
    present = availability(session, members, at)
    return [Candidate(m, load.get(m, 0), present[m], levels.get(m, 0)) for m in sorted(members)]


def availability(session: Session, usernames: list[str], at: datetime) -> dict[str, bool]:
    """Present and within their working hours (an agent without a row is present, always)."""
    rows = {
        r.username: r
        for r in session.scalars(select(AgentRouting).where(AgentRouting.username.in_(usernames)))
    }
    names = {r.calendar for r in rows.values() if r.calendar}
    calendars = {
        c.name: c.document
        for c in session.scalars(select(BusinessCalendar).where(BusinessCalendar.name.in_(names)))
    }
    result = {}
    for name in usernames:
        row = rows.get(name)
        result[name] = row is None or (
            row.availability == "present" and _working(calendars.get(row.calendar), at)
        )
    return result


def _working(document: dict[str, Any] | None, at: datetime) -> bool:
    if document is None:
        return True  # no calendar (or a name since deleted): always
    try:
        return Calendar.from_dict(document).is_open(at)
    except CalendarError:
        return True


def facts_of(
    session: Session,
    ticket: TicketSnapshot,
    contact_id: int | None,
    order_number: str,
    language: str = "",
) -> Facts:
    """What the rules see of a ticket being opened: its channel, mailbox and form, subject
    and first message, its customer's organisation, type (when contacts have one) and
    language, the order number given and its fields."""
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    organisation = (
        session.get(Organisation, contact.organisation_id)
        if contact is not None and contact.organisation_id is not None
        else None
    )
    body = ""
    if ticket.first_message_id is not None:
        body = (
            session.scalar(select(Message.body).where(Message.id == ticket.first_message_id)) or ""
        )
    return Facts(
        channel=ticket.channel,
        mailbox=ticket.mailbox,
        form=ticket.form,
        customer_type=str(getattr(contact, "customer_type", "") or ""),
        organisation=organisation.name if organisation else "",
        order=order_number,
        subject=ticket.subject,
        body=body[:MAX_BODY],
        language=(contact.language if contact else "") or language,
        fields=dict(ticket.fields),
    )


def process_by_rules(session: Session, facts: Facts) -> str:
    """The process the rules choose for a request being accepted (``""``: none). The same
    rules run the same way as at the opening; only their ``process`` is taken here, because
    the process is pinned before the workflow starts. The customer is not linked yet, so
    conditions on the organisation or customer type do not hold at this point."""
    return str(evaluate(active_rules(session), facts, only=("process",)).outcome.get("process", ""))
