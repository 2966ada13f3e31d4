"""The ``rate`` signal on a real Temporal server (activities stubbed): a running ticket records
the rating and keeps it across continue-as-new; an ended ticket's restored run takes it by
signal-with-start and ends again, closed, not reopened."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy

from tempodesk.contracts import (
    SIGNAL_RATE,
    TICKET_TASK_QUEUE,
    Actor,
    PerformActionInput,
    RateInput,
    TicketSnapshot,
    TicketStartInput,
)
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import WorkflowEnv
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")
AGENT = Actor("agent1", ["Support"])


def handle(wf: WorkflowEnv, number: str) -> WorkflowHandle[Any, Any]:
    return wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(number))


async def act(wf: WorkflowEnv, number: str, action: str, **fields: Any) -> None:
    await handle(wf, number).execute_update(
        TicketWorkflow.perform_action, PerformActionInput(action, AGENT, fields)
    )


async def until(check: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_a_rating_is_recorded_and_kept_across_continue_as_new(wf: WorkflowEnv) -> None:
    start = wf.start_input(continue_as_new_after=4)
    await wf.create(start)
    first_run = (await handle(wf, start.number).describe()).run_id
    await act(wf, start.number, "resolve")
    asked = wf.stubs.latest(start.number)
    assert asked.rating_asked_seq == asked.seq and asked.rating_agent == "agent1"

    async def mailed() -> bool:  # the run loop sends it after the action answered
        return any(
            (t.ticket_number, t.template, t.to_role) == (start.number, "rate_answer", "customer")
            for t in wf.stubs.templates
        )

    await until(mailed)  # (the run may continue as new before or after the rating)
    rating = RateInput(4, asked.rating_asked_seq, "agent1", comment_message_id=55, key="a")
    await handle(wf, start.number).signal(SIGNAL_RATE, rating)
    await handle(wf, start.number).signal(SIGNAL_RATE, rating)  # the same form again
    await handle(wf, start.number).signal(SIGNAL_RATE, RateInput(9, asked.rating_asked_seq))

    async def rated() -> bool:
        return wf.stubs.latest(start.number).rating_score == 4

    await until(rated)
    await act(wf, start.number, "comment", body=56)
    await act(wf, start.number, "comment", body=57)

    async def moved_on() -> bool:
        return (await handle(wf, start.number).describe()).run_id != first_run

    await until(moved_on)
    snapshot: TicketSnapshot = await handle(wf, start.number).query(TicketWorkflow.snapshot)
    assert snapshot.rating_score == 4 and snapshot.rating_asked_seq == asked.rating_asked_seq
    # A projection may be written twice (retried); the database keeps one row per event.
    rated_seqs = {e.seq for e in wf.stubs.events(start.number) if e.kind == "rated"}
    assert len(rated_seqs) == 1  # the repeat and the score 9 were not taken
    event = next(e for e in wf.stubs.events(start.number) if e.kind == "rated")
    assert event.message_id == 55 and event.data["score"] == 4


async def test_an_ended_ticket_takes_a_rating_in_a_restored_run_and_stays_closed(
    wf: WorkflowEnv,
) -> None:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "resolve")
    await act(wf, start.number, "close")
    await handle(wf, start.number).result()
    closed = wf.stubs.latest(start.number)
    restoring = TicketStartInput.restoring(start.process, closed)
    new_run = await wf.client.start_workflow(
        TicketWorkflow.run,
        restoring,
        id=ticket_workflow_id(start.number),
        task_queue=TICKET_TASK_QUEUE,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        start_signal=SIGNAL_RATE,
        start_signal_args=[RateInput(2, closed.rating_asked_seq, "agent1")],
    )
    result = await new_run.result()
    assert result.state == "closed"
    assert (await new_run.describe()).status == WorkflowExecutionStatus.COMPLETED
    latest = wf.stubs.latest(start.number)
    assert latest.rating_score == 2 and latest.state == "closed"
    kinds = [e.kind for e in wf.stubs.events(start.number)]
    assert "rated" in kinds and "reopened" not in kinds
