"""ProcessMigrationWorkflow: durably walks a planned migration, one ticket at a time.

The workflow takes the tickets not done yet (a local activity), asks each one with an
activity that sends it the ``migrate_process`` Update and writes its report line (the one
door of ``activities.dispatch``: workflows cannot send Updates), a few at once, and ends the
migration. A large one continues as new every ``BATCH`` tickets; a crash resumes with the
tickets not done yet.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        ACT_FINISH_MIGRATION,
        ACT_MIGRATE_TICKET,
        ACT_MIGRATE_TICKETS,
        ACT_MIGRATION_ITEMS,
        MigrateTicketInput,
        MigrationItemsInput,
        MigrationItemsResult,
        MigrationResult,
        MigrationStartInput,
    )

BATCH = 500
CONCURRENCY = 4
LOCAL_TIMEOUT = timedelta(seconds=30)
# Runs started before one activity per ticket replay the single activity that did it all.
PER_TICKET = "migration-per-ticket"


@workflow.defn
class ProcessMigrationWorkflow:
    @workflow.run
    async def run(self, input: MigrationStartInput) -> MigrationResult:
        if not workflow.patched(PER_TICKET):
            legacy: MigrationResult = await workflow.execute_activity(
                ACT_MIGRATE_TICKETS,
                input,
                result_type=MigrationResult,
                start_to_close_timeout=timedelta(hours=2),
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
            return legacy
        found: MigrationItemsResult = await workflow.execute_local_activity(
            ACT_MIGRATION_ITEMS,
            MigrationItemsInput(input.migration_id, BATCH),
            result_type=MigrationItemsResult,
            start_to_close_timeout=LOCAL_TIMEOUT,
        )
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(item_id: int, number: str) -> None:
            async with gate:
                await workflow.execute_activity(
                    ACT_MIGRATE_TICKET,
                    MigrateTicketInput(input.migration_id, item_id, number),
                    start_to_close_timeout=timedelta(minutes=1),
                    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
                )

        await asyncio.gather(*(one(item.item_id, item.number) for item in found.items))
        if len(found.items) == BATCH:
            workflow.continue_as_new(input)
        finished: MigrationResult = await workflow.execute_local_activity(
            ACT_FINISH_MIGRATION,
            input,
            result_type=MigrationResult,
            start_to_close_timeout=LOCAL_TIMEOUT,
        )
        return finished
