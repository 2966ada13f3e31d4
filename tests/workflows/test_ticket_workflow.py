"""TicketWorkflow's behaviour on a real Temporal server, activities stubbed by name."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

from tempodesk.contracts import (
    ACT_PROJECT,
    ACT_PROJECT_ACTION,
    ACT_SELECT_SLA,
    SA_ASSIGNEE,
    SA_GROUP,
    SA_PRIORITY,
    SA_STATE,
    TICKET_TASK_QUEUE,
    Actor,
    CustomerMessageInput,
    PerformActionInput,
    PerformActionResult,
    PinnedSla,
    TicketSnapshot,
    TicketStartInput,
)
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import WorkflowEnv
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

AGENT = Actor("agent1", ["Support"])
UPDATE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
}


def handle(wf: WorkflowEnv, number: str) -> WorkflowHandle[Any, Any]:
    return wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(number))


async def act(
    wf: WorkflowEnv, number: str, action: str, actor: Actor = AGENT, **fields: Any
) -> PerformActionResult:
    result: PerformActionResult = await handle(wf, number).execute_update(
        TicketWorkflow.perform_action, PerformActionInput(action, actor, fields)
    )
    return result


async def update_events(wf: WorkflowEnv, number: str) -> list[Any]:
    history = await handle(wf, number).fetch_history()
    return [e for e in history.events if e.event_type in UPDATE_EVENTS]


async def rejection(wf: WorkflowEnv, number: str, request: PerformActionInput) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle(wf, number).execute_update(TicketWorkflow.perform_action, request)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_creation_answers_once_the_ticket_is_projected(wf: WorkflowEnv) -> None:
    start = wf.start_input(order_number="ORD-1")
    snapshot = await wf.create(start)
    assert snapshot.state == "new"
    assert snapshot.assignee == "agent1" and snapshot.group == "Support"
    assert snapshot.contact_id == 7 and snapshot.order_id == 3
    projected = wf.stubs.latest(start.number)
    assert projected.seq == 1 and projected.state == "new"
    created = wf.stubs.events(start.number)[0]
    assert created.kind == "created" and created.message_id == 1


async def test_retried_creation_joins_the_same_ticket(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    first = await wf.create(start)
    second = await wf.create(start)
    assert first.number == second.number
    assert [e.kind for e in wf.stubs.events(start.number)] == ["created"]
    runs = [
        w
        async for w in wf.client.list_workflows(
            f"WorkflowId = '{ticket_workflow_id(start.number)}'"
        )
    ]
    assert len({r.run_id for r in runs}) <= 1


async def test_action_not_available_in_this_state_is_rejected_before_history(
    wf: WorkflowEnv,
) -> None:
    start = wf.start_input()
    await wf.create(start)
    before = await update_events(wf, start.number)
    cause = await rejection(wf, start.number, PerformActionInput("reopen", AGENT, {}))
    assert cause.type == "ActionNotAvailable"
    assert "not available while the ticket is 'New'" in cause.message
    assert await update_events(wf, start.number) == before


async def test_action_the_actor_may_not_perform_is_rejected_before_history(
    wf: WorkflowEnv,
) -> None:
    start = wf.start_input(process=wf.guarded())
    await wf.create(start)
    before = await update_events(wf, start.number)
    cause = await rejection(wf, start.number, PerformActionInput("close", AGENT, {}))
    assert cause.type == "ActionForbidden"
    assert await update_events(wf, start.number) == before
    # A member of the group named in the definition may.
    result = await act(wf, start.number, "close", Actor("agent2", ["Billing"]))
    assert result.state == "closed"


async def test_customer_identity_cannot_perform_agent_actions(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    cause = await rejection(
        wf,
        start.number,
        PerformActionInput(
            "close_without_reply", Actor("x", kind="customer"), {"reason": "duplicate"}
        ),
    )
    assert cause.type == "ActionForbidden"


async def test_missing_required_field_is_rejected_with_the_field_error(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    before = await update_events(wf, start.number)
    cause = await rejection(wf, start.number, PerformActionInput("reply", AGENT, {}))
    assert cause.type == "InvalidFields"
    details = cause.details[0]
    assert details["code"] == "invalid_fields"
    assert details["fields"] == {"body": "This field is required."}
    assert await update_events(wf, start.number) == before


async def test_stale_page_is_rejected_when_the_state_moved(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "resolve")
    cause = await rejection(
        wf,
        start.number,
        PerformActionInput(
            "close_without_reply", AGENT, {"reason": "duplicate"}, expected_state="new"
        ),
    )
    assert cause.type == "StateChanged"


async def test_reply_moves_to_waiting_and_sends_mail_keyed_by_the_event(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    result = await act(wf, start.number, "reply", body=501)
    assert result.state == "waiting_for_customer"
    await wait_for(lambda: any(m.ticket_number == start.number for m in wf.stubs.sent))
    mail = next(m for m in wf.stubs.sent if m.ticket_number == start.number)
    assert mail.message_id == 501 and mail.event_seq == result.seq
    assert mail.to == "jana@example.com"
    assert mail.subject == f"[{start.number}] Re: The kettle stopped working"
    await wait_for(lambda: "email_sent" in [e.kind for e in wf.stubs.events(start.number)])
    attached = [m for p in wf.stubs.projections[start.number] for m in p.messages]
    assert [m.delivery_status for m in attached if m.message_id == 501] == ["queued", "sent"]


async def test_permanent_delivery_failure_is_shown_on_the_ticket(wf: WorkflowEnv) -> None:
    start = wf.start_input(customer=wf.start_input().customer.__class__(email="gone@example.com"))
    wf.stubs.refuse_mail_to.add("gone@example.com")
    await wf.create(start)
    await act(wf, start.number, "reply", body=77)
    await wait_for(lambda: "email_failed" in [e.kind for e in wf.stubs.events(start.number)])
    failed = next(e for e in wf.stubs.events(start.number) if e.kind == "email_failed")
    assert "550" in failed.data["detail"]


async def test_customer_message_moves_a_waiting_ticket_back_to_open_once(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "reply", body=10)
    message = CustomerMessageInput(message_id=11, author="jana@example.com", channel="email")
    await handle(wf, start.number).signal(TicketWorkflow.customer_message, message)
    await handle(wf, start.number).signal(TicketWorkflow.customer_message, message)
    await wait_for(lambda: "customer_message" in [e.kind for e in wf.stubs.events(start.number)])
    snapshot: TicketSnapshot = await handle(wf, start.number).query(TicketWorkflow.snapshot)
    assert snapshot.state == "open"
    kinds = [e.kind for e in wf.stubs.events(start.number)]
    assert kinds.count("customer_message") == 1


async def test_effects_assign_forward_and_priority_change_the_ticket(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "assign", agent="agent2")
    await act(wf, start.number, "set_priority", priority=4)
    result = await act(wf, start.number, "forward", to="group:Billing", note=12)
    snapshot = wf.stubs.latest(start.number)
    assert result.state == "open"
    assert snapshot.group == "Billing" and snapshot.assignee is None and snapshot.priority == 4
    # The last action (a notice queued by an earlier one may be recorded after it).
    forward = [e for e in wf.stubs.events(start.number) if e.kind == "action"][-1]
    assert forward.action == "forward" and forward.data["group"] == "Billing"
    assert forward.message_id == 12
    notes = [
        m for p in wf.stubs.projections[start.number] for m in p.messages if m.message_id == 12
    ]
    assert notes[0].internal is True


async def test_search_attributes_follow_the_ticket(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "assign", agent="agent2")
    await act(wf, start.number, "set_priority", priority=3)
    await act(wf, start.number, "resolve")
    description = await handle(wf, start.number).describe()
    attributes = description.typed_search_attributes
    assert attributes.get(SA_STATE) == "resolved"
    assert attributes.get(SA_ASSIGNEE) == "agent2"
    assert attributes.get(SA_GROUP) == "Support"
    assert attributes.get(SA_PRIORITY) == 3


async def test_double_submit_of_the_same_request_is_performed_once(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    request = PerformActionInput("set_priority", AGENT, {"priority": 3})
    first, second = await asyncio.gather(
        handle(wf, start.number).execute_update(
            TicketWorkflow.perform_action, request, id="click-1"
        ),
        handle(wf, start.number).execute_update(
            TicketWorkflow.perform_action, request, id="click-1"
        ),
    )
    assert first == second
    assert [e.action for e in wf.stubs.events(start.number) if e.kind == "action"] == [
        "set_priority"
    ]


async def test_two_agents_closing_at_once_close_the_ticket_once(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    results = await asyncio.gather(
        act(wf, start.number, "close_without_reply", reason="duplicate"),
        act(
            wf,
            start.number,
            "close_without_reply",
            Actor("agent2", ["Support"]),
            reason="no_action",
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, PerformActionResult) for r in results) == 1
    closes = [e for e in wf.stubs.events(start.number) if e.action == "close_without_reply"]
    assert len(closes) == 1


async def test_final_state_completes_the_workflow(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "reply", body=31)
    await act(wf, start.number, "close")
    result = await handle(wf, start.number).result()
    assert result.state == "closed"
    # The reply queued before closing was still delivered.
    assert any(m.ticket_number == start.number and m.message_id == 31 for m in wf.stubs.sent)
    description = await handle(wf, start.number).describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED


async def test_continue_as_new_carries_the_ticket_over(wf: WorkflowEnv) -> None:
    start = wf.start_input(continue_as_new_after=3)
    await wf.create(start)
    first_run = (await handle(wf, start.number).describe()).run_id
    for priority in (3, 4, 1):
        await act(wf, start.number, "set_priority", priority=priority)
    await wait_for_async(lambda: run_changed(wf, start.number, first_run))
    result = await act(wf, start.number, "reply", body=90)
    assert result.state == "waiting_for_customer" and result.seq == 5
    snapshot: TicketSnapshot = await handle(wf, start.number).query(TicketWorkflow.snapshot)
    assert snapshot.priority == 1 and snapshot.assignee == "agent1"


async def run_changed(wf: WorkflowEnv, number: str, run_id: str | None) -> bool:
    return (await handle(wf, number).describe()).run_id != run_id


async def wait_for(predicate: Any, timeout: float = 15.0) -> None:
    async def check() -> bool:
        return bool(predicate())

    await wait_for_async(check, timeout)


async def wait_for_async(predicate: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_a_reopened_ticket_continues_as_new_without_reopening_again(
    wf: WorkflowEnv,
) -> None:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "close_without_reply", reason="duplicate")
    await handle(wf, start.number).result()
    restored = wf.stubs.latest(start.number)
    reopening = replace(
        TicketStartInput.reopening(start.process, restored), continue_as_new_after=3
    )
    reopened = await wf.client.start_workflow(
        TicketWorkflow.run,
        reopening,
        id=ticket_workflow_id(start.number),
        task_queue=TICKET_TASK_QUEUE,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    first_run = (await reopened.describe()).run_id
    await act(wf, start.number, "reply", body=91)  # reopened, replied: waiting; then a note
    await act(wf, start.number, "comment", body=92)
    await wait_for_async(lambda: run_changed(wf, start.number, first_run))
    result = await act(wf, start.number, "comment", body=93)
    assert result.state == "waiting_for_customer"  # the new run did not reopen it again
    kinds = [e.kind for e in wf.stubs.events(start.number)]
    assert kinds.count("reopened") == 1


async def test_a_request_repeated_after_continue_as_new_is_answered_not_performed_again(
    wf: WorkflowEnv,
) -> None:
    start = wf.start_input(continue_as_new_after=3)
    await wf.create(start)
    first_run = (await handle(wf, start.number).describe()).run_id
    note = PerformActionInput("comment", AGENT, {"body": 94}, expected_state="new")
    first = await handle(wf, start.number).execute_update(
        TicketWorkflow.perform_action, note, id="agent1-note-94"
    )
    for priority in (3, 4):
        await act(wf, start.number, "set_priority", priority=priority)
    await wait_for_async(lambda: run_changed(wf, start.number, first_run))
    # The agent's retry after a 503 (same request id, its page still expecting "new"):
    again = await handle(wf, start.number).execute_update(
        TicketWorkflow.perform_action, note, id="agent1-note-94"
    )
    assert again == first
    notes = [e for e in wf.stubs.events(start.number) if e.action == "comment"]
    assert len(notes) == 1


async def test_an_action_that_may_change_the_sla_projects_and_selects_in_one_step(
    wf: WorkflowEnv,
) -> None:
    start = wf.start_input()
    calendar = {"time_zone": "Europe/Prague", "hours": {"mon": ["08:00-17:00"]}}
    wf.stubs.slas[start.number] = PinnedSla(1, "Standard", calendar, {"resolution": 86400})
    await wf.create(start)
    history = await handle(wf, start.number).fetch_history()
    markers_before = sum(
        1 for e in history.events if e.HasField("marker_recorded_event_attributes")
    )
    # The policy stays: one local activity (select and project in one transaction).
    await act(wf, start.number, "set_priority", priority=3)
    history = await handle(wf, start.number).fetch_history()
    details = [
        str(e.marker_recorded_event_attributes)
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ][markers_before:]
    assert sum(ACT_PROJECT_ACTION in d for d in details) == 1
    assert not any(
        ACT_SELECT_SLA in d or ACT_PROJECT in d.replace(ACT_PROJECT_ACTION, "") for d in details
    )
    assert not any(e.kind == "sla_changed" for e in wf.stubs.events(start.number))
    # The policy changes with the priority: re-armed, recorded and projected again.
    wf.stubs.slas[start.number] = PinnedSla(2, "Urgent", calendar, {"resolution": 3600})
    await act(wf, start.number, "set_priority", priority=4)
    changed = [e for e in wf.stubs.events(start.number) if e.kind == "sla_changed"]
    assert [e.data["to"] for e in changed] == ["Urgent"]
    latest = wf.stubs.latest(start.number)
    assert latest.priority == 4 and latest.sla.policy is not None
    assert latest.sla.policy.policy_name == "Urgent"
