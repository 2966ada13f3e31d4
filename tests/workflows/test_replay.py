"""Workflow code must keep replaying the histories of tickets already in flight.

``histories/*.json`` are real histories recorded from earlier versions of TicketWorkflow;
every change to the workflow must still replay them (or guard itself with
``workflow.patched``). To add fresh recordings after a deliberate, patched change, run:
``TEMPODESK_RECORD_HISTORIES=1 .venv/bin/python -m pytest tests/workflows/test_replay.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tempodesk.app.worker import SANDBOX
from tempodesk.contracts import (
    Actor,
    CustomerMessageInput,
    MigrateProcessInput,
    PerformActionInput,
)
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import WorkflowEnv
from workflows.ticket import TicketWorkflow

HISTORIES = Path(__file__).parent / "histories"
AGENT = Actor("agent1", ["Support"])


def replayer() -> Replayer:
    return Replayer(workflows=[TicketWorkflow], workflow_runner=SANDBOX)


def recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_recorded_histories_are_kept_in_the_repository() -> None:
    assert recorded(), "tests/workflows/histories/ must hold recorded ticket histories"


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", recorded(), ids=lambda p: p.stem)
async def test_recorded_history_replays_with_the_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer().replay_workflow(history)


async def walk_a_ticket_through_every_kind_of_step(wf: WorkflowEnv) -> str:
    """Support: assign (a template goes out), type (a stored field), note, reply, the
    customer's answer, forward, resolve, close."""
    start = wf.start_input(order_number="ORD-1001")
    await wf.create(start)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(start.number))

    async def act(action: str, **fields: object) -> None:
        await handle.execute_update(
            TicketWorkflow.perform_action, PerformActionInput(action, AGENT, dict(fields))
        )

    await act("assign", agent="agent2")
    await act("categorise", type="problem")
    await act("set_priority", priority=3)
    await act("comment", body=2)
    await act("reply", body=3)
    await handle.signal(
        TicketWorkflow.customer_message,
        CustomerMessageInput(message_id=4, author="jana@example.com", channel="email"),
    )
    await act("forward", to="group:Billing", note=5)
    await act("resolve")
    await act("close")
    await handle.result()
    return start.number


async def walk_a_ticket_through_a_migration(wf: WorkflowEnv) -> str:
    """Guarded v1 → escalate → migrated by an admin to v2 (state renamed) → hand back → close."""
    from tests.workflows.test_process_features import ADMIN, guarded_v2, pinned_from

    start = wf.start_input(process=wf.guarded())
    await wf.create(start)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(start.number))
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("escalate", ADMIN, {})
    )
    await handle.execute_update(
        TicketWorkflow.migrate_process,
        MigrateProcessInput(pinned_from(guarded_v2(), 2), ADMIN, {"escalated": "specialist"}),
    )
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("hand_back", ADMIN, {})
    )
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("close", ADMIN, {})
    )
    await handle.result()
    return start.number


WALKS = {
    "ticket-full-walk-v2": walk_a_ticket_through_every_kind_of_step,
    "ticket-migration-v2": walk_a_ticket_through_a_migration,
}


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("name", WALKS)
async def test_a_fresh_history_of_every_step_replays(wf: WorkflowEnv, name: str) -> None:
    number = await WALKS[name](wf)
    handle = wf.client.get_workflow_handle(ticket_workflow_id(number))
    history = await handle.fetch_history()
    await replayer().replay_workflow(history)
    if os.environ.get("TEMPODESK_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())
