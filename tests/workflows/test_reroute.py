"""Routing in the ticket's workflow: the group's timeout without action is a durable timer
that unassigns and routes again (hours pass in a second under the time-skipping test
server), an agent's action in time turns it off, and the ``reroute`` Update routes at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from tempodesk.contracts import Actor, PerformActionInput, RerouteInput, TicketSnapshot
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import WorkflowEnv
from tests.workflows.test_timeouts import skipping  # noqa: F401 (the time-skipping fixture)
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

AGENT = Actor("agent1", ["Support"])
Skipping = tuple[WorkflowEnvironment, WorkflowEnv]


async def opened(skipping: Skipping, minutes: int):  # type: ignore[no-untyped-def]  # noqa: F811
    env, wf = skipping
    start = wf.start_input()
    wf.stubs.reroute_minutes[start.number] = minutes
    await wf.create(start)
    handle = env.client.get_workflow_handle_for(
        TicketWorkflow.run, ticket_workflow_id(start.number)
    )
    return env, wf, start.number, handle


async def test_a_ticket_nobody_acts_on_is_routed_to_someone_else(skipping: Skipping) -> None:  # noqa: F811
    env, wf, number, handle = await opened(skipping, 30)
    await env.sleep(timedelta(minutes=29))
    before: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert before.assignee == "agent1" and before.reroute_due
    await env.sleep(timedelta(minutes=2))
    after: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert after.assignee == "agent2"
    [rerouted] = [e for e in wf.stubs.events(number) if e.kind == "rerouted"]
    assert rerouted.actor == "system"
    assert rerouted.data["reason"] == "timeout" and rerouted.data["from_assignee"] == "agent1"
    assert rerouted.data["routing"] == ["Support: round robin → agent2"]
    assert [r.exclude for r in wf.stubs.routed if r.ticket.number == number] == ["agent1"]
    assert wf.stubs.latest(number).assignee == "agent2"  # projected


async def test_an_agent_acting_in_time_keeps_the_ticket(skipping: Skipping) -> None:  # noqa: F811
    env, wf, number, handle = await opened(skipping, 30)
    await env.sleep(timedelta(minutes=10))
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("comment", AGENT, {"body": 5})
    )
    await env.sleep(timedelta(hours=5))
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.assignee == "agent1" and snapshot.reroute_due == ""
    assert not any(e.kind == "rerouted" for e in wf.stubs.events(number))


async def test_without_a_timeout_nothing_is_armed(skipping: Skipping) -> None:  # noqa: F811
    env, _wf, _number, handle = await opened(skipping, 0)
    await env.sleep(timedelta(days=2))
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.assignee == "agent1" and snapshot.reroute_due == ""


async def test_the_reroute_update_routes_the_ticket_now(skipping: Skipping) -> None:  # noqa: F811
    _env, wf, number, handle = await opened(skipping, 0)
    result = await handle.execute_update(TicketWorkflow.reroute, RerouteInput("agent1", "bulk"))
    assert (result.assignee, result.group) == ("agent2", "Support")
    [rerouted] = [e for e in wf.stubs.events(number) if e.kind == "rerouted"]
    assert (rerouted.actor, rerouted.data["reason"]) == ("agent1", "bulk")
