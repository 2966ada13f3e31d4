"""WebhookWorkflow: one per subscription (id ``webhook-<id>``), sending what waits for it.

The deliveries themselves are database rows, queued by the ticket projection in its own
transaction, so nothing is lost when a worker dies: the workflow only walks them. It is
started (or woken) by the ``wake`` signal-with-start after a projection queued something,
sends the subscription's deliveries oldest first, each by an activity on the
``tempodesk-webhooks`` queue retried with backoff, and ends when none waits (a later wake
starts a new run). A delivery whose attempts all fail is marked failed; enough of them in a
row disable the subscription, which ends the run.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        ACT_SEND_WEBHOOK,
        ACT_WEBHOOK_FAILED,
        ACT_WEBHOOK_PENDING,
        WEBHOOK_REFUSED,
        WEBHOOK_TASK_QUEUE,
        WebhookFailedInput,
        WebhookFailedResult,
        WebhookPendingResult,
        WebhookRunInput,
        WebhookSendInput,
        WebhookSendResult,
    )

DELIVERIES_PER_RUN = 500  # then continue-as-new: a busy subscription's history stays short
DB_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


@workflow.defn
class WebhookWorkflow:
    def __init__(self) -> None:
        self._woken = False

    @workflow.signal
    def wake(self) -> None:
        """New deliveries wait (the projection queued them)."""
        self._woken = True

    @workflow.run
    async def run(self, input: WebhookRunInput) -> None:
        sent = 0
        while sent < DELIVERIES_PER_RUN:
            self._woken = False
            batch: WebhookPendingResult = await workflow.execute_activity(
                ACT_WEBHOOK_PENDING,
                input,
                result_type=WebhookPendingResult,
                task_queue=WEBHOOK_TASK_QUEUE,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if not batch.delivery_ids:
                if self._woken:
                    continue  # woken while looking: look again
                return
            for delivery_id in batch.delivery_ids:
                sent += 1
                if await self._deliver(delivery_id, batch):
                    return  # the subscription was disabled
        workflow.continue_as_new(input)

    async def _deliver(self, delivery_id: int, batch: WebhookPendingResult) -> bool:
        """Send one delivery with retries; True if its failure disabled the subscription."""
        try:
            await workflow.execute_activity(
                ACT_SEND_WEBHOOK,
                WebhookSendInput(delivery_id),
                result_type=WebhookSendResult,
                task_queue=WEBHOOK_TASK_QUEUE,
                start_to_close_timeout=timedelta(seconds=batch.timeout_seconds * 3 + 10),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=batch.retry_seconds),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(
                        seconds=max(batch.max_retry_seconds, batch.retry_seconds)
                    ),
                    maximum_attempts=batch.attempts,
                    non_retryable_error_types=[WEBHOOK_REFUSED],
                ),
            )
            return False
        except ActivityError as exc:
            cause = exc.cause
            error = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
        outcome: WebhookFailedResult = await workflow.execute_activity(
            ACT_WEBHOOK_FAILED,
            WebhookFailedInput(delivery_id, error),
            result_type=WebhookFailedResult,
            task_queue=WEBHOOK_TASK_QUEUE,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        return outcome.disabled
