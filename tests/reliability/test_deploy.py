"""R17: a new build deployed while tickets are in flight.

Tickets walk the support process's paths on the real stack; the worker is stopped and a new
one started (the deploy) while they are open; they carry on. Then every history they made
replays with the code as it is now (in the full variant also every history recorded from
earlier versions, tests/workflows/histories): no non-determinism, no failed workflow task,
and the ledger is clean.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, WorkflowReplayResults

from tempodesk.app.worker import SANDBOX
from tempodesk.core.ids import ticket_workflow_id
from tests.helpers import Stack, WorkerThread
from tests.reliability.ledger import Ledger, assert_clean, full_run
from workflows.mailbox import MailboxWorkflow
from workflows.migration import ProcessMigrationWorkflow
from workflows.ticket import TicketWorkflow

RECORDED = Path(__file__).resolve().parents[1] / "workflows" / "histories"
PATHS: list[list[tuple[str, dict[str, Any]]]] = [
    [("set_priority", {"priority": 3}), ("comment", {"body": "note"}), ("reply", {"body": "hi"})],
    [("reply", {"body": "which model?"}), ("resolve", {}), ("close", {})],
    [("mark_spam", {}), ("reopen", {}), ("close_without_reply", {"reason": "duplicate"})],
    [("assign", {"agent": "agent2"}), ("categorise", {"type": "problem"})],
]


def test_a_deploy_with_tickets_in_flight_replays_and_fails_no_task(stack: Stack) -> None:
    ledger = Ledger(stack, "R17", "deploy + replay")
    client = stack.client()
    walks = PATHS * (25 if full_run() else 1)
    numbers = []
    for _ in walks:
        token = ledger.token()
        body = {"subject": f"Deploy {token}", "body": token, "customer": {"email": "d@ex.org"}}
        response = client.post("/api/v1/tickets", json=body, headers=stack.api())
        assert response.status_code == 201, response.get_json()
        numbers.append(ledger.ticket(response.get_json()["number"]))

    def act(number: str, step: tuple[str, dict[str, Any]]) -> None:
        action, fields = step
        url = f"/api/v1/tickets/{number}/actions/{action}"
        answer = client.post(url, json={"fields": fields}, headers=stack.api())
        assert answer.status_code == 200, (action, answer.get_json())

    for number, walk in zip(numbers, walks, strict=True):
        act(number, walk[0])
    stack.worker.stop()  # the deploy: the old worker goes, the new build comes up
    stack.worker = WorkerThread(stack.settings).start()
    for number, walk in zip(numbers, walks, strict=True):
        for step in walk[1:]:
            act(number, step)
    assert_clean(ledger, record=False)
    results = replay([ticket_workflow_id(n) for n in numbers], stack)
    failures = {run: str(error)[:200] for run, error in results.replay_failures.items()}
    ledger.measured["notes"] = f"{len(numbers)} live + {len(recorded_histories())} "
    ledger.measured["notes"] += f"recorded histories replayed, {len(failures)} failed"
    for failure in failures.values():
        ledger.violation(f"replay: {failure}")  # counted: a deploy that breaks tickets
    assert failures == {}
    assert_clean(ledger)


def recorded_histories() -> list[Path]:
    return sorted(RECORDED.glob("*.json")) if full_run() else []


def replay(workflow_ids: list[str], stack: Stack) -> WorkflowReplayResults:
    """The live histories and the recorded ones, through the replayer of the current code."""

    async def run() -> WorkflowReplayResults:
        settings = stack.settings
        client = await Client.connect(
            settings.temporal_target, namespace=settings.temporal_namespace
        )
        live = [await client.get_workflow_handle(w).fetch_history() for w in workflow_ids]
        assert all(len(history.events) > 5 for history in live)
        recorded = [  # (tests/workflows/test_replay.py replays them in every run)
            WorkflowHistory.from_json(path.stem, path.read_text()) for path in recorded_histories()
        ]
        replayer = Replayer(
            workflows=[TicketWorkflow, MailboxWorkflow, ProcessMigrationWorkflow],
            workflow_runner=SANDBOX,
        )

        async def histories() -> Any:
            for history in [*live, *recorded]:
                yield history

        return await replayer.replay_workflows(histories(), raise_on_replay_failure=False)

    with ThreadPoolExecutor(1) as pool:  # its own event loop: replaying takes a while
        return pool.submit(asyncio.run, run()).result(timeout=600)
