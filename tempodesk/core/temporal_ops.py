"""What the operations page asks Temporal: running and failed workflows, and the activities
Temporal is retrying (``AsyncFacade`` inherits it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.service import RPCError


@dataclass
class StuckActivity:
    """An activity Temporal is retrying (for the operations page): where, what, why."""

    workflow_id: str
    run_id: str
    activity: str
    attempt: int
    last_failure: str
    next_attempt_at: datetime | None = None


@dataclass
class FailedWorkflow:
    workflow_id: str
    run_id: str
    workflow_type: str
    status: str
    closed_at: datetime | None


#: Describing workflows for the operations page: at most this many at once.
DESCRIBE_CONCURRENCY = 8


class Inspection:
    """Read-only questions about workflows, for the operations page."""

    client: Client

    async def running(self, workflow_type: str, limit: int) -> list[str]:
        """Ids of running workflows of a type (a visibility query), at most ``limit``."""
        query = f'WorkflowType="{workflow_type}" AND ExecutionStatus="Running"'
        return [w.id async for w in self.client.list_workflows(query, limit=limit)]

    async def failed(self, since: datetime, limit: int) -> list[FailedWorkflow]:
        """Workflows that failed, timed out or were terminated since ``since`` (newest first)."""
        query = (
            '(ExecutionStatus="Failed" OR ExecutionStatus="TimedOut" OR '
            f'ExecutionStatus="Terminated") AND CloseTime > "{since.isoformat()}"'
        )
        return [
            FailedWorkflow(
                w.id, w.run_id, w.workflow_type, getattr(w.status, "name", ""), w.close_time
            )
            async for w in self.client.list_workflows(query, limit=limit)
        ]

    async def stuck_activities(self, workflow_ids: list[str]) -> list[StuckActivity]:
        """The pending activities of these workflows that failed at least once (an SMTP
        server away, a mailbox refusing us), each with its attempt and last error."""
        gate = asyncio.Semaphore(DESCRIBE_CONCURRENCY)

        async def one(workflow_id: str) -> list[StuckActivity]:
            async with gate:
                try:
                    described = await self.client.get_workflow_handle(workflow_id).describe()
                except RPCError:
                    return []  # ended and gone, or the engine away: nothing to show
            found = []
            for pending in described.raw_description.pending_activities:
                failure = pending.last_failure.message if pending.HasField("last_failure") else ""
                if pending.attempt <= 1 and not failure:
                    continue
                next_at = (
                    pending.next_attempt_schedule_time.ToDatetime(tzinfo=UTC)
                    if pending.HasField("next_attempt_schedule_time")
                    else None
                )
                found.append(
                    StuckActivity(
                        workflow_id,
                        described.run_id,
                        pending.activity_type.name,
                        pending.attempt,
                        failure,
                        next_at,
                    )
                )
            return found

        results = await asyncio.gather(*(one(w) for w in dict.fromkeys(workflow_ids)))
        return [item for found in results for item in found]
