"""RetentionWorkflow: started by the schedule ``tempodesk-retention``; forgets closed
tickets older than the retention period, a batch per activity, until none is due."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import TICKET_TASK_QUEUE
    from tempodesk.contracts.privacy import (
        ACT_APPLY_RETENTION,
        RetentionBatchResult,
        RetentionResult,
        RetentionRunInput,
    )

BATCH_TIMEOUT = timedelta(minutes=5)


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self, input: RetentionRunInput) -> RetentionResult:
        total = RetentionResult()
        for _ in range(input.batches):
            batch: RetentionBatchResult = await workflow.execute_activity(
                ACT_APPLY_RETENTION,
                result_type=RetentionBatchResult,
                task_queue=TICKET_TASK_QUEUE,
                start_to_close_timeout=BATCH_TIMEOUT,
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
            if not batch.tickets:
                break
            total.tickets += batch.tickets
            total.workflow_runs_deleted += batch.workflow_runs_deleted
        return total
