"""Routing in the opening's transaction, against the database: round robin stays fair when
openings run at once, and availability reads the agent's status and working hours."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import delete

from tempodesk.contracts import AssignmentResult
from tempodesk.core.db import transaction
from tempodesk.core.models import BusinessCalendar, Group, GroupRouting, User
from tempodesk.people import accounts
from tempodesk.routing import store
from tempodesk.routing.opening import route_opening
from tempodesk.routing.rules import Facts
from tests.helpers import Stack

MONDAY_NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SUNDAY_NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def team(stack: Stack, strategy: str, size: int) -> tuple[str, list[str]]:
    """A new group of ``size`` agents handing out tickets by ``strategy``."""
    tag = uuid.uuid4().hex[:6]
    group, agents = f"Team {tag}", [f"rt{tag}{i}" for i in range(size)]
    with transaction(stack.sessions) as session:
        session.add(Group(name=group))
        session.flush()
        for agent in agents:
            accounts.create_user(session, agent, "pass-word-1", groups=[group])
        store.set_group_routing(session, group, strategy, 0, 0)
    return group, agents


def drop(stack: Stack, group: str, agents: list[str]) -> None:
    with transaction(stack.sessions) as session:
        session.execute(delete(Group).where(Group.name == group))
        session.execute(delete(User).where(User.username.in_(agents)))


def open_one(stack: Stack, group: str, at: datetime = MONDAY_NOON) -> AssignmentResult:
    with transaction(stack.sessions) as session:
        cascade = AssignmentResult(None, group, "none")
        return route_opening(session, Facts(channel="api"), cascade, at).assignment


def test_round_robin_stays_fair_when_openings_run_at_once(any_stack: Stack) -> None:
    group, agents = team(any_stack, "round_robin", 4)
    try:
        with ThreadPoolExecutor(8) as pool:
            chosen = list(pool.map(lambda _: open_one(any_stack, group), range(200)))
        given = Counter(c.assignee for c in chosen)
        assert given == dict.fromkeys(agents, 50)
        assert {c.reason for c in chosen} == {"strategy"}
        with any_stack.sessions() as session:
            assert session.get(GroupRouting, group).turns == 200  # type: ignore[union-attr]
    finally:
        drop(any_stack, group, agents)


def test_agents_away_or_outside_their_working_hours_get_no_tickets(stack: Stack) -> None:
    group, agents = team(stack, "round_robin", 3)
    away, weekdays, always = agents
    calendar = f"Weekdays {group}"
    with transaction(stack.sessions) as session:
        session.add(
            BusinessCalendar(
                name=calendar,
                document={"time_zone": "UTC", "hours": {"mon": ["08:00-17:00"]}},
            )
        )
        store.set_availability(session, away, "away", "")
        store.set_availability(session, weekdays, "present", calendar)
    try:
        monday = {open_one(stack, group, MONDAY_NOON).assignee for _ in range(4)}
        sunday = {open_one(stack, group, SUNDAY_NOON).assignee for _ in range(4)}
        assert monday == {weekdays, always}
        assert sunday == {always}
    finally:
        drop(stack, group, agents)
        with transaction(stack.sessions) as session:
            session.execute(delete(BusinessCalendar).where(BusinessCalendar.name == calendar))


def test_a_manual_group_keeps_its_tickets_in_the_queue(stack: Stack) -> None:
    group, agents = team(stack, "manual", 2)
    try:
        assert open_one(stack, group) == AssignmentResult(None, group, "none")
    finally:
        drop(stack, group, agents)
