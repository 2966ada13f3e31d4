"""ProcessMigrationWorkflow: durably walks a planned migration, one ticket Update at a time.

The per-ticket work (an Update to each ticket's workflow, the report row) is an activity that
heartbeats its progress and skips tickets already done, so a crash resumes where it stopped.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import ACT_MIGRATE_TICKETS, MigrationResult, MigrationStartInput


@workflow.defn
class ProcessMigrationWorkflow:
    @workflow.run
    async def run(self, input: MigrationStartInput) -> MigrationResult:
        result: MigrationResult = await workflow.execute_activity(
            ACT_MIGRATE_TICKETS,
            input,
            result_type=MigrationResult,
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return result
