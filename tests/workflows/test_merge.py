"""Merging tickets on a real Temporal server (activities stubbed): the merged ticket tells the
survivor and ends in the state "merged"; asked twice, it merges once; a survivor that has
ended refuses the merge before anything changed."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy

from tempodesk.contracts import (
    MERGED,
    TICKET_TASK_QUEUE,
    Actor,
    MergeTicketInput,
    PerformActionInput,
    TicketStartInput,
)
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import WorkflowEnv
from tests.workflows.test_rating_workflow import until
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")
AGENT = Actor("agent1", ["Support"])


def handle(wf: WorkflowEnv, number: str) -> WorkflowHandle[Any, Any]:
    return wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(number))


async def merge(wf: WorkflowEnv, number: str, into: str, update_id: str | None = None) -> Any:
    return await handle(wf, number).execute_update(
        TicketWorkflow.merge_into, MergeTicketInput(into, AGENT), id=update_id
    )


async def test_a_merged_ticket_tells_the_survivor_and_its_workflow_ends(wf: WorkflowEnv) -> None:
    goes, stays = wf.start_input(), wf.start_input(message_id=2)
    await wf.create(goes)
    await wf.create(stays)

    result = await merge(wf, goes.number, stays.number)

    merged = wf.stubs.latest(goes.number)
    assert (merged.state, merged.state_category, merged.merged_into) == (
        MERGED,
        MERGED,
        stays.number,
    )
    assert [e.kind for e in wf.stubs.events(goes.number)][-1] == "merged"
    assert result.seq == merged.seq
    assert await handle(wf, goes.number).result() is not None  # the run ends cleanly
    described = await handle(wf, goes.number).describe()
    assert described.status == WorkflowExecutionStatus.COMPLETED

    async def absorbed() -> bool:
        return any(e.kind == "merged_in" for e in wf.stubs.events(stays.number))

    await until(absorbed)
    (event,) = [e for e in wf.stubs.events(stays.number) if e.kind == "merged_in"]
    assert event.data == {"ticket": goes.number, "subject": goes.subject}
    assert wf.stubs.latest(stays.number).merged_from == [goes.number]
    # The survivor goes on as before: an agent can still act on it.
    await handle(wf, stays.number).execute_update(
        TicketWorkflow.perform_action, PerformActionInput("comment", AGENT, {"body": 77})
    )


async def test_merging_twice_with_the_same_request_merges_once(wf: WorkflowEnv) -> None:
    goes, stays = wf.start_input(), wf.start_input(message_id=2)
    await wf.create(goes)
    await wf.create(stays)
    first = await merge(wf, goes.number, stays.number, update_id="merge-1")
    again = await merge(wf, goes.number, stays.number, update_id="merge-1")
    assert first == again
    await handle(wf, goes.number).result()

    async def absorbed() -> bool:
        return any(e.kind == "merged_in" for e in wf.stubs.events(stays.number))

    await until(absorbed)
    await handle(wf, stays.number).execute_update(
        TicketWorkflow.perform_action, PerformActionInput("comment", AGENT, {"body": 78})
    )
    kinds = [e.kind for e in wf.stubs.events(stays.number)]
    assert kinds.count("merged_in") == 1
    assert [e.kind for e in wf.stubs.events(goes.number)].count("merged") == 1


async def test_a_survivor_that_has_ended_refuses_the_merge(wf: WorkflowEnv) -> None:
    goes, ended = wf.start_input(), wf.start_input(message_id=2)
    await wf.create(goes)
    await wf.create(ended)
    await handle(wf, ended.number).execute_update(
        TicketWorkflow.perform_action,
        PerformActionInput("close_without_reply", AGENT, {"reason": "no_action"}),
    )
    await handle(wf, ended.number).result()

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await merge(wf, goes.number, ended.number)
    assert "closed" in str(refused.value.cause)
    still = wf.stubs.latest(goes.number)
    assert (still.merged_into, still.state_category) == ("", "new")


async def test_a_ticket_cannot_be_merged_into_itself(wf: WorkflowEnv) -> None:
    goes = wf.start_input()
    await wf.create(goes)
    with pytest.raises(WorkflowUpdateFailedError):
        await merge(wf, goes.number, goes.number)
    assert wf.stubs.latest(goes.number).merged_into == ""


async def test_a_merged_ticket_restored_for_a_late_signal_ends_at_once(wf: WorkflowEnv) -> None:
    goes, stays = wf.start_input(), wf.start_input(message_id=2)
    await wf.create(goes)
    await wf.create(stays)
    await merge(wf, goes.number, stays.number)
    await handle(wf, goes.number).result()
    merged = wf.stubs.latest(goes.number)

    restored = TicketStartInput.restoring(goes.process, merged)
    again = await wf.client.start_workflow(
        TicketWorkflow.run,
        restored,
        id=ticket_workflow_id(goes.number),
        task_queue=TICKET_TASK_QUEUE,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    result = await again.result()
    assert result.state == MERGED
