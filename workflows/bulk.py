"""BulkMessageWorkflow (``bulk-<id>``): sends a bulk message to its recipients, one activity
per recipient on the mail queue (retried with backoff; the row makes a second send a no-op),
continuing as new every 500 sends so its history stays short."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import MAIL_TASK_QUEUE
    from tempodesk.contracts.bulk import (
        ACT_BULK_FINISH,
        ACT_BULK_PENDING,
        ACT_BULK_PREPARE,
        ACT_BULK_SEND,
        BulkPendingResult,
        BulkResult,
        BulkRunInput,
        BulkSendInput,
        BulkSendResult,
    )

SENDS_PER_RUN = 500
DB_TIMEOUT = timedelta(seconds=60)
SEND_TIMEOUT = timedelta(seconds=60)  # above the SMTP client's timeout
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))


@workflow.defn
class BulkMessageWorkflow:
    @workflow.run
    async def run(self, input: BulkRunInput) -> BulkResult:
        if input.sent == 0:
            await self._db(ACT_BULK_PREPARE, input)
        sent = 0
        while sent < SENDS_PER_RUN:
            batch: BulkPendingResult = await workflow.execute_activity(
                ACT_BULK_PENDING,
                input,
                result_type=BulkPendingResult,
                task_queue=MAIL_TASK_QUEUE,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=RETRY,
            )
            if not batch.recipient_ids:
                await self._db(ACT_BULK_FINISH, input)
                return BulkResult(input.sent + sent)
            for recipient_id in batch.recipient_ids:
                await workflow.execute_activity(
                    ACT_BULK_SEND,
                    BulkSendInput(recipient_id),
                    result_type=BulkSendResult,
                    task_queue=MAIL_TASK_QUEUE,
                    start_to_close_timeout=SEND_TIMEOUT,
                    schedule_to_close_timeout=timedelta(days=3),
                    retry_policy=RETRY,
                )
                sent += 1
        workflow.continue_as_new(BulkRunInput(input.bulk_id, input.sent + sent))

    async def _db(self, name: str, input: BulkRunInput) -> None:
        await workflow.execute_activity(
            name,
            input,
            task_queue=MAIL_TASK_QUEUE,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=RETRY,
        )
