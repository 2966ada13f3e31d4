"""Tickets, replies and ratings with known report answers, written straight to the projection
(as the worker's projection would: ``first_response_at`` from the messages by its rule), in
a group of their own and in March 2020, so other
tests' tickets never enter these figures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from tempodesk.core.db import transaction
from tempodesk.core.models import Message, Ticket, TicketRating
from tempodesk.reports.filters import Filters
from tests.helpers import Stack


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2020, month, day, hour, tzinfo=UTC)


@dataclass
class Seeded:
    group: str
    other_group: str
    alice: str
    bob: str

    def filters(self, **more: str) -> Filters:
        values = {"group": self.group, **more}
        return Filters(start=date(2020, 3, 1), end=date(2020, 3, 3), **values)


def seed(stack: Stack) -> Seeded:
    tag = uuid.uuid4().hex[:8]
    s = Seeded(
        group=f"rep-{tag}", other_group=f"rep2-{tag}", alice=f"alice-{tag}", bob=f"bob-{tag}"
    )
    tickets = [
        # number, created, channel, assignee, category, resolved_at, group
        ("T1", at(1, 8), "email", s.alice, "resolved", at(2, 8), s.group),
        ("T2", at(1, 10), "email", s.alice, "open", None, s.group),
        ("T3", at(2, 10), "web", s.bob, "closed", at(2, 16), s.group),
        ("T4", at(3, 12), "web", s.bob, "new", None, s.group),
        ("T5", at(3, 0), "email", None, "pending", None, s.group),
        ("T6", at(20, 0, month=2), "email", s.alice, "resolved", at(3, 10), s.group),
        ("T7", at(1, 9), "email", s.alice, "open", None, s.other_group),
    ]
    # number, at, sender_role, internal, attached
    messages = [
        ("T1", at(1, 8), "customer", False, True),
        ("T1", at(1, 8).replace(minute=30), "agent", True, True),  # a note: not a response
        ("T1", at(1, 9), "agent", False, True),  # 1 h
        ("T2", at(1, 13), "agent", False, True),  # 3 h
        ("T2", at(1, 14), "agent", False, True),  # a second reply: not the first
        ("T3", at(2, 10).replace(minute=30), "customer", False, True),
        ("T3", at(2, 11), "agent", False, True),  # 1 h
        ("T5", at(3, 1), "agent", False, False),  # never attached: never sent
        ("T7", at(1, 10), "agent", False, True),
    ]
    # number, agent, score, rated_at
    ratings = [
        ("T1", s.alice, 5, at(2, 9)),
        ("T3", s.bob, 2, at(2, 17)),
        ("T6", s.alice, 4, at(3, 11)),
        ("T2", s.alice, 1, at(1, 12, month=4)),  # after the period
        ("T7", s.alice, 1, at(2, 12)),  # another group
    ]
    # SLA policies (the block as the projection writes it) and whether a target was breached.
    slas = {
        "T1": ("Standard", False),
        "T2": ("Standard", True),
        "T3": ("Premium", False),
        "T5": ("Standard", False),
        "T6": ("Standard", True),  # created before the period
    }
    # The projection's rule: the first public agent message attached to the timeline.
    first_responses: dict[str, datetime] = {}
    for number, sent, role, internal, attached in messages:
        if role == "agent" and not internal and attached:
            first_responses[number] = min(sent, first_responses.get(number, sent))
    with transaction(stack.sessions) as session:
        for number, created, channel, assignee, category, resolved_at, group in tickets:
            session.add(
                Ticket(
                    number=f"{number}-{tag}",
                    workflow_id=f"ticket-{number}-{tag}",
                    state=category,
                    state_category=category,
                    process_name="support",
                    process_version=1,
                    channel=channel,
                    assignee=assignee,
                    group_name=group,
                    created_at=created,
                    updated_at=created,
                    resolved_at=resolved_at,
                    first_response_at=first_responses.get(number),
                    sla=_sla_block(slas[number][0]) if number in slas else None,
                    sla_breached=slas.get(number, ("", False))[1],
                )
            )
        for number, sent, role, internal, attached in messages:
            session.add(
                Message(
                    ticket_number=f"{number}-{tag}",
                    sender_role=role,
                    internal=internal,
                    attached=attached,
                    body="…",
                    created_at=sent,
                )
            )
        for n, (number, agent, score, rated_at) in enumerate(ratings):
            session.add(
                TicketRating(
                    ticket_number=f"{number}-{tag}",
                    asked_seq=n + 1,
                    agent=agent,
                    score=score,
                    rated_at=rated_at,
                )
            )
    return s


def _sla_block(policy: str) -> dict[str, object]:
    """An SLA block as ``asdict(SlaState)`` gives it (what the reports read of it: the name)."""
    return {
        "policy": {"policy_id": 1, "policy_name": policy, "calendar": {}, "targets": {}},
        "clocks": [],
        "replied": False,
        "awaiting_reply": False,
    }
