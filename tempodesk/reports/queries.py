"""The reports: each one SQL query (or two) over the projection, filtered by period, group,
channel and process and kept to the reader's groups.

- ``created_resolved``: tickets created and resolved per day (UTC) of the period
  (``tickets.created_at``, ``tickets.resolved_at``; an index each).
- ``backlog``: tickets waiting now (new, open, pending) by state category and group; the
  period does not apply (``ix_tickets_state_category_id``).
- ``first_response``: tickets created in the period, by the chosen dimension: how many, how
  many have a public agent reply, and the median and 90th percentile of the time to the
  first one (``tickets.first_response_at``, kept by the projection).
- ``resolution``: tickets resolved in the period: the median and 90th percentile of the time
  from creation to resolution.
- ``agent_load``: per assignee, the tickets waiting now and those resolved in the period.
- ``csat``: ratings given in the period (``ticket_ratings``), by dimension: how many, their
  average and the share of 4 and 5.

- ``sla``: tickets created in the period under an SLA policy, by policy: how many, how many
  breached a target (``tickets.sla_breached``), and the share that did not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session

from statemachines import OPEN_CATEGORIES
from tempodesk.core.models import Ticket, TicketRating
from tempodesk.reports.filters import Filters, Scope
from tempodesk.reports.percentiles import PERCENTILES, duration_stats


@dataclass(frozen=True)
class Report:
    """A report's answer: its machine name, column names and rows of plain values."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def created_resolved(session: Session, filters: Filters, scope: Scope) -> Report:
    """Tickets created and resolved on each day of the period (zeros included)."""
    created = _per_day(session, Ticket.created_at, filters, scope)
    resolved = _per_day(session, Ticket.resolved_at, filters, scope)
    rows = [
        (day.isoformat(), created.get(day.isoformat(), 0), resolved.get(day.isoformat(), 0))
        for day in filters.days()
    ]
    return Report("created_resolved", ("day", "created", "resolved"), rows)


def backlog(session: Session, filters: Filters, scope: Scope) -> Report:
    """Tickets waiting now by state category and group (the period does not apply)."""
    group = func.coalesce(Ticket.group_name, "")
    stmt = (
        select(Ticket.state_category, group, func.count())
        .where(Ticket.state_category.in_(OPEN_CATEGORIES), *_conditions(filters, scope))
        .group_by(Ticket.state_category, group)
    )
    order = {category: n for n, category in enumerate(OPEN_CATEGORIES)}
    rows = sorted(session.execute(stmt).all(), key=lambda r: (order[r[0]], r[1]))
    return Report("backlog", ("state_category", "group", "tickets"), [tuple(r) for r in rows])


def first_response(session: Session, filters: Filters, scope: Scope) -> Report:
    """Tickets created in the period: the time to their first public agent reply."""
    rows = select(
        _key(filters.by).label("key"),
        Ticket.created_at.label("started"),
        Ticket.first_response_at.label("ended"),
    ).where(*_in_period(Ticket.created_at, filters), *_conditions(filters, scope))
    return _durations("first_response", "answered", session, rows)


def resolution(session: Session, filters: Filters, scope: Scope) -> Report:
    """Tickets resolved in the period: the time from creation to resolution."""
    rows = select(
        _key(filters.by).label("key"),
        Ticket.created_at.label("started"),
        Ticket.resolved_at.label("ended"),
    ).where(*_in_period(Ticket.resolved_at, filters), *_conditions(filters, scope))
    return _durations("resolution", "resolved", session, rows)


def sla(session: Session, filters: Filters, scope: Scope) -> Report:
    """Tickets created in the period under an SLA policy: how many breached a target."""
    policy = Ticket.sla[("policy", "policy_name")].as_string()
    stmt = (
        select(
            policy,
            func.count(),
            func.sum(case((Ticket.sla_breached.is_(True), 1), else_=0)),
        )
        .where(
            *_in_period(Ticket.created_at, filters),
            *_conditions(filters, scope),
            policy.is_not(None),
        )
        .group_by(policy)
    )
    rows = [
        (name, count, int(breached), round(100.0 * (count - breached) / count, 1))
        for name, count, breached in session.execute(stmt).all()
    ]
    rows.sort()
    return Report("sla", ("policy", "tickets", "breached", "compliance_percent"), rows)


def agent_load(session: Session, filters: Filters, scope: Scope) -> Report:
    """Per assignee: tickets waiting now, and tickets resolved in the period."""
    agent = func.coalesce(Ticket.assignee, "")
    conditions = _conditions(filters, scope)
    waiting = dict(
        session.execute(
            select(agent, func.count())
            .where(Ticket.state_category.in_(OPEN_CATEGORIES), *conditions)
            .group_by(agent)
        ).all()
    )
    resolved = dict(
        session.execute(
            select(agent, func.count())
            .where(*_in_period(Ticket.resolved_at, filters), *conditions)
            .group_by(agent)
        ).all()
    )
    rows = [
        (name, waiting.get(name, 0), resolved.get(name, 0))
        for name in sorted(set(waiting) | set(resolved))
    ]
    return Report("agent_load", ("agent", "open", "resolved"), rows)


def csat(session: Session, filters: Filters, scope: Scope) -> Report:
    """Ratings given in the period: how many, the average score and the share of 4 and 5."""
    key = TicketRating.agent if filters.by == "agent" else _key(filters.by)
    stmt = (
        select(
            key,
            func.count(),
            func.avg(TicketRating.score),
            func.sum(case((TicketRating.score >= 4, 1), else_=0)),
        )
        .join(Ticket, Ticket.number == TicketRating.ticket_number)
        .where(*_in_period(TicketRating.rated_at, filters), *_conditions(filters, scope))
        .group_by(key)
    )
    rows = [
        (name or "", count, round(float(average), 2), round(100.0 * satisfied / count, 1))
        for name, count, average, satisfied in session.execute(stmt).all()
    ]
    rows.sort()
    return Report("csat", (filters.by, "ratings", "average", "satisfied_percent"), rows)


ReportFunction = Callable[[Session, Filters, Scope], Report]

#: Every report by its name (the API's ``/reports/<name>``), in the page's order.
REPORTS: dict[str, ReportFunction] = {
    "created_resolved": created_resolved,
    "backlog": backlog,
    "first_response": first_response,
    "resolution": resolution,
    "sla": sla,
    "agent_load": agent_load,
    "csat": csat,
}


def run(session: Session, name: str, filters: Filters, scope: Scope) -> Report:
    """The report ``name`` (a key of ``REPORTS``)."""
    return REPORTS[name](session, filters, scope)


def _durations(name: str, ended: str, session: Session, rows: Any) -> Report:
    hours = [f"p{round(p * 100)}_hours" for p in PERCENTILES]
    return Report(
        name,
        ("key", "tickets", ended, *hours),
        [
            (s.key, s.tickets, s.ended, *(_hours(v) for v in s.percentiles))
            for s in duration_stats(session, rows)
        ],
    )


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _per_day(session: Session, column: Any, filters: Filters, scope: Scope) -> dict[str, int]:
    if session.get_bind().dialect.name == "postgresql":
        day: Any = cast(func.timezone("UTC", column), Date)
    else:
        day = func.date(column)
    stmt = (
        select(day, func.count())
        .where(*_in_period(column, filters), *_conditions(filters, scope))
        .group_by(day)
    )
    return {_iso(value): count for value, count in session.execute(stmt).all()}


def _iso(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _in_period(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    return [column >= filters.since, column < filters.until]


def _key(by: str) -> Any:
    """The ticket's column a report is broken down by."""
    return func.coalesce(
        {
            "channel": Ticket.channel,
            "process": Ticket.process_name,
            "group": Ticket.group_name,
            "agent": Ticket.assignee,
        }[by],
        "",
    )


def _conditions(filters: Filters, scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope.groups is not None:
        conditions.append(Ticket.group_name.in_(scope.groups))
    if filters.group:
        conditions.append(Ticket.group_name == filters.group)
    if filters.channel:
        conditions.append(Ticket.channel == filters.channel)
    if filters.process:
        conditions.append(Ticket.process_name == filters.process)
    return conditions
