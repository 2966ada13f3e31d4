"""SLA clocks are durable timers in the ticket's workflow, on the time-skipping test server:
deadlines land on the right minute across nights, weekends, holidays and DST; pausing moves
them; a warning and a breach each act once, at their moment; a policy change re-arms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import WorkflowHandle
from temporalio.converter import default
from temporalio.testing import WorkflowEnvironment

from tempodesk.contracts import (
    SA_SLA_BREACHED,
    SA_SLA_DUE_AT,
    Actor,
    CustomerMessageInput,
    PerformActionInput,
    PinnedSla,
    SlaAction,
    SlaChangedInput,
    SlaClock,
    TicketSnapshot,
)
from tempodesk.contracts.triggers import TriggerActionSpec, TriggerSpec
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import WorkflowEnv
from tests.workflows.test_timeouts import skipping
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["skipping"]

AGENT = Actor("agent1", ["Support"])
PRAGUE = ZoneInfo("Europe/Prague")
CALENDAR = {
    "time_zone": "Europe/Prague",
    "hours": {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["12-24", "12-25", "12-26", "01-01"],
}
HOUR = 3600
DAY = 9 * HOUR  # a working day of this calendar

Env = tuple[WorkflowEnvironment, WorkflowEnv]


def policy(revision: str = "a", **overrides: object) -> PinnedSla:
    values: dict[str, object] = {
        "policy_id": 1,
        "policy_name": "Standard",
        "calendar": CALENDAR,
        "targets": {"first_response": 4 * HOUR, "next_response": 4 * HOUR, "resolution": 3 * DAY},
        "revision": revision,
    }
    values.update(overrides)
    return PinnedSla(**values)  # type: ignore[arg-type]


def prague(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PRAGUE)


async def at(env: WorkflowEnvironment, moment: datetime) -> None:
    """Let time pass until ``moment`` (tests run in order; each jumps further ahead)."""
    now = await env.get_current_time()
    if moment <= now:
        pytest.skip(f"the test server's clock is past {moment}")
    await env.sleep(moment - now)


async def open_ticket(
    skipping: Env, sla: PinnedSla, **start_with: Any
) -> tuple[WorkflowHandle[TicketWorkflow, object], str]:
    env, wf = skipping
    start = wf.start_input(**start_with)
    wf.stubs.slas[start.number] = sla
    await wf.create(start)
    handle = env.client.get_workflow_handle_for(
        TicketWorkflow.run, ticket_workflow_id(start.number)
    )
    return handle, start.number  # type: ignore[return-value]


async def clocks(handle: WorkflowHandle[TicketWorkflow, object]) -> dict[str, SlaClock]:
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    return {c.target: c for c in snapshot.sla.clocks}


def minute(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC).replace(second=0, microsecond=0)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


async def test_deadlines_skip_the_night_and_the_weekend(skipping: Env) -> None:
    env, _ = skipping
    await at(env, prague(2026, 12, 11, 15, 0))  # a Friday, two working hours left
    handle, _ = await open_ticket(skipping, policy())
    found = await clocks(handle)
    assert found["first_response"].state == "running"
    assert minute(found["first_response"].due_at) == utc(prague(2026, 12, 14, 10, 0))
    assert minute(found["resolution"].due_at) == utc(prague(2026, 12, 16, 15, 0))
    assert "next_response" not in found  # only after a reply and the customer's answer
    indexed = (await handle.describe()).typed_search_attributes
    assert indexed.get(SA_SLA_BREACHED) is False
    due = indexed.get(SA_SLA_DUE_AT)
    assert due is not None and due.replace(second=0, microsecond=0) == utc(
        prague(2026, 12, 14, 10, 0)
    )


async def test_holidays_are_not_business_time(skipping: Env) -> None:
    env, _ = skipping
    await at(env, prague(2026, 12, 23, 15, 0))  # Wednesday; 24th-26th holidays, then Sunday
    handle, _ = await open_ticket(skipping, policy())
    found = await clocks(handle)
    assert minute(found["first_response"].due_at) == utc(prague(2026, 12, 28, 10, 0))


async def test_a_reply_meets_first_response_and_the_next_message_starts_next_response(
    skipping: Env,
) -> None:
    env, _ = skipping
    await at(env, prague(2027, 1, 4, 9, 0))  # Monday
    handle, _ = await open_ticket(skipping, policy())
    await env.sleep(timedelta(hours=1))
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("reply", AGENT, {"body": 3})
    )
    found = await clocks(handle)
    assert found["first_response"].state == "met"
    assert found["resolution"].state == "paused"  # waiting for the customer stops it
    await env.sleep(timedelta(hours=2))
    await handle.signal(TicketWorkflow.customer_message, CustomerMessageInput(message_id=5))
    found = await clocks(handle)
    assert found["next_response"].state == "running"
    assert minute(found["next_response"].due_at) == utc(prague(2027, 1, 4, 16, 0))


async def test_waiting_for_the_customer_pauses_resolution_and_the_answer_resumes_it(
    skipping: Env,
) -> None:
    env, _ = skipping
    await at(env, prague(2027, 1, 11, 8, 0))  # Monday 08:00
    handle, _ = await open_ticket(skipping, policy())  # resolution due Wed 17:00
    await env.sleep(timedelta(hours=2))
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("reply", AGENT, {"body": 3})
    )
    found = await clocks(handle)
    assert found["resolution"].state == "paused" and found["resolution"].due_at == ""
    assert found["resolution"].used_seconds // 60 == 120
    await env.sleep(timedelta(days=2))  # Wednesday 10:00: the customer answers
    await handle.signal(TicketWorkflow.customer_message, CustomerMessageInput(message_id=6))
    found = await clocks(handle)
    assert found["resolution"].state == "running"
    # 25 working hours were left: Wed 7, Thu 9, Fri 9 -> Friday 17:00.
    assert minute(found["resolution"].due_at) == utc(prague(2027, 1, 15, 17, 0))


async def test_a_warning_and_a_breach_each_act_once_at_their_moment(skipping: Env) -> None:
    env, wf = skipping
    await at(env, prague(2027, 2, 1, 8, 0))  # Monday 08:00
    sla = policy(
        warn_percent=50,
        on_warning=[SlaAction("notify", template="sla_warning", to="assignee")],
        on_breach=[SlaAction("raise_priority"), SlaAction("escalate", group="Escalations")],
    )
    handle, number = await open_ticket(skipping, sla)
    await env.sleep(timedelta(days=10))
    events = wf.stubs.events(number)
    warnings = [e for e in events if e.kind == "sla_warning"]
    breaches = [e for e in events if e.kind == "sla_breached"]
    assert [w.data["target"] for w in warnings] == ["first_response", "resolution"]
    assert [b.data["target"] for b in breaches] == ["first_response", "resolution"]
    assert minute(warnings[0].at) == utc(prague(2027, 2, 1, 10, 0))
    assert minute(breaches[0].at) == utc(prague(2027, 2, 1, 12, 0))
    assert minute(breaches[1].at) == utc(prague(2027, 2, 3, 17, 0))
    notices = [t for t in wf.stubs.templates if t.ticket_number == number]
    assert [(t.template, t.to_role) for t in notices] == [("sla_warning", "assignee")] * 2
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.priority == 4  # raised once per breach: 2 -> 3 -> 4
    assert snapshot.group == "Escalations"
    assert {c.state for c in snapshot.sla.clocks} == {"breached"}
    # Not answered: late as of the workflow's last step (a query sees the time of the last
    # workflow task: the resolution's breach), the API counts to the present.
    first, resolution = snapshot.sla.clocks
    late = datetime.fromisoformat(resolution.due_at) - datetime.fromisoformat(first.due_at)
    assert first.breached_by_seconds == int(late.total_seconds())
    assert await indexed_value(env, handle.id, SA_SLA_BREACHED.name) is True


async def indexed_value(env: WorkflowEnvironment, workflow_id: str, name: str) -> object:
    """A search attribute as the server holds it (read raw: the test server keeps an unset
    Datetime as a null, which ``describe()`` cannot decode)."""
    raw = await env.client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=env.client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    payload = raw.workflow_execution_info.search_attributes.indexed_fields[name]
    return default().payload_converter.from_payloads([payload])[0]


async def test_a_breach_may_perform_a_process_action_as_the_system(skipping: Env) -> None:
    env, wf = skipping
    await at(env, prague(2027, 2, 15, 8, 0))  # Monday 08:00
    sla = policy(
        targets={"first_response": 2 * HOUR}, on_breach=[SlaAction("perform", action="resolve")]
    )
    handle, number = await open_ticket(skipping, sla)
    await env.sleep(timedelta(hours=3))
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.state == "resolved"
    resolved = [e for e in wf.stubs.events(number) if e.action == "resolve"]
    assert len(resolved) == 1 and resolved[0].actor == "system"
    assert resolved[0].data["reason"] == "sla_breached first_response"
    assert minute(resolved[0].at) == utc(prague(2027, 2, 15, 10, 0))


async def test_a_policy_change_re_arms_an_open_ticket(skipping: Env) -> None:
    env, wf = skipping
    await at(env, prague(2027, 3, 1, 9, 0))  # Monday
    handle, number = await open_ticket(skipping, policy())
    await env.sleep(timedelta(hours=1))
    wf.stubs.slas[number] = policy("b", targets={"first_response": 8 * HOUR})
    await handle.signal(TicketWorkflow.sla_changed, SlaChangedInput("policy edited"))
    found = await clocks(handle)
    assert set(found) == {"first_response"}
    # 1 of 8 hours used: 7 left from 10:00.
    assert minute(found["first_response"].due_at) == utc(prague(2027, 3, 1, 17, 0))
    assert any(e.kind == "sla_changed" for e in wf.stubs.events(number))


async def test_deadlines_land_right_across_the_end_of_summer_time(skipping: Env) -> None:
    env, _ = skipping
    await at(env, prague(2027, 10, 29, 15, 0))  # Friday, CEST; Sunday the clocks go back
    handle, _ = await open_ticket(skipping, policy())
    found = await clocks(handle)
    # 27 working hours: Fri 2, Mon 9, Tue 9, Wed 7 -> Wednesday 15:00 CET (14:00 UTC).
    assert minute(found["resolution"].due_at) == datetime(2027, 11, 3, 14, 0, tzinfo=UTC)


async def test_an_sla_warning_runs_the_triggers_on_it_once(skipping: Env) -> None:
    env, wf = skipping
    await at(env, prague(2027, 11, 15, 8, 0))  # Monday 08:00
    urgent = TriggerSpec(
        5, "Warned: urgent", "sla_warning", [], [TriggerActionSpec("set_priority", 4)]
    )
    handle, number = await open_ticket(
        skipping,
        policy(warn_percent=50, targets={"first_response": 4 * HOUR}),
        triggers=[urgent],
    )
    await env.sleep(timedelta(days=1))
    warning = next(e for e in wf.stubs.events(number) if e.kind == "sla_warning")
    fired = {e.seq: e for e in wf.stubs.events(number) if e.kind == "trigger_fired"}
    assert [e.data["cause"] for e in fired.values()] == [warning.seq]
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.priority == 4
