"""A state's timeout in business time (``timeout: {after: 8h, business: true}``) counts the
working hours of the ticket's calendar: on the time-skipping test server, a timer started on
a Friday afternoon fires on Monday, not during the weekend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statemachines import bundled
from tempodesk.contracts import Actor, PerformActionInput, TicketSnapshot
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.test_sla import CALENDAR, Env, at, policy
from tests.workflows.test_timeouts import skipping
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["skipping"]

AGENT = Actor("agent1", ["Support"])
PRAGUE = ZoneInfo("Europe/Prague")
WALL = "timeout: {after: 7d, action: close_no_answer}"
BUSINESS = "timeout: {after: 8h, business: true, action: close_no_answer}"


def business_support() -> str:
    """The bundled support process, its "waiting for customer" timeout in business time."""
    text = bundled("support")
    assert WALL in text
    return text.replace(WALL, BUSINESS)


async def test_an_eight_business_hour_timeout_from_friday_fires_on_monday(skipping: Env) -> None:
    env, wf = skipping
    await at(env, datetime(2027, 1, 8, 15, 0, tzinfo=PRAGUE))  # a Friday, 2 working hours left
    start = wf.start_input(process=wf.pinned(business_support()), calendar=CALENDAR)
    await wf.create(start)
    handle = env.client.get_workflow_handle_for(
        TicketWorkflow.run, ticket_workflow_id(start.number)
    )
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("reply", AGENT, {"body": 3})
    )
    # Monday 14:00 is 8 working hours later (Friday 15-17, Monday 08-14).
    await at(env, datetime(2027, 1, 11, 13, 50, tzinfo=PRAGUE))
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.state == "waiting_for_customer"
    await env.sleep(timedelta(minutes=20))
    result = await handle.result()
    assert result.state == "closed"
    closing = [e for e in wf.stubs.events(start.number) if e.action == "close_no_answer"]
    assert len(closing) == 1 and closing[0].data["reason"] == "timeout after 8h"
    closed_at = datetime.fromisoformat(closing[0].at).astimezone(UTC)
    assert closed_at.replace(second=0, microsecond=0) == datetime(2027, 1, 11, 13, 0, tzinfo=UTC)


async def test_a_business_timeout_counts_in_the_calendar_of_the_tickets_policy(
    skipping: Env,
) -> None:
    env, wf = skipping
    await at(env, datetime(2027, 1, 15, 15, 0, tzinfo=PRAGUE))  # a Friday again
    start = wf.start_input(process=wf.pinned(business_support()))  # no default calendar
    wf.stubs.slas[start.number] = policy()  # Mon-Fri 08-17 in Prague
    await wf.create(start)
    handle = env.client.get_workflow_handle_for(
        TicketWorkflow.run, ticket_workflow_id(start.number)
    )
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("reply", AGENT, {"body": 3})
    )
    await at(env, datetime(2027, 1, 18, 14, 10, tzinfo=PRAGUE))
    result = await handle.result()
    assert result.state == "closed"
    closing = [e for e in wf.stubs.events(start.number) if e.action == "close_no_answer"]
    closed_at = datetime.fromisoformat(closing[0].at).astimezone(UTC)
    assert closed_at.replace(second=0, microsecond=0) == datetime(2027, 1, 18, 13, 0, tzinfo=UTC)
