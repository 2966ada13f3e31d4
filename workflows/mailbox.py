"""MailboxWorkflow: one per mailbox, polling it on a durable timer, forever.

Each poll is one activity that fetches new mail by IMAP UID, hands every message to intake
(stored first, routed second) and only then flags it on the server; see activities/mailbox.py.
Between polls the workflow sleeps on a Temporal timer; the `poll_now` signal (e.g. from an
IMAP IDLE watcher or the admin's "check now" button) wakes it early, `stop` ends it.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import ACT_POLL_MAILBOX, MailboxPollInput, MailboxPollResult

POLLS_PER_RUN = 200  # then continue-as-new: the history of a mailbox never grows unbounded


@workflow.defn
class MailboxWorkflow:
    def __init__(self) -> None:
        self._wake = False
        self._stop = False

    @workflow.run
    async def run(self, input: MailboxPollInput) -> None:
        for _ in range(POLLS_PER_RUN):
            if self._stop:
                return
            result: MailboxPollResult = await workflow.execute_activity(
                ACT_POLL_MAILBOX,
                input,
                result_type=MailboxPollResult,
                start_to_close_timeout=timedelta(minutes=15),
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
            if result.stopped:
                return
            if result.more and not self._stop:
                continue  # a backlog: drain it before sleeping
            with contextlib.suppress(TimeoutError):  # the poll interval passed
                await workflow.wait_condition(
                    lambda: self._wake or self._stop,
                    timeout=timedelta(seconds=max(result.next_poll_seconds, 1)),
                )
            self._wake = False
            if workflow.info().is_continue_as_new_suggested():
                break
        if not self._stop:
            workflow.continue_as_new(input)

    @workflow.signal
    def poll_now(self) -> None:
        self._wake = True

    @workflow.signal
    def stop(self) -> None:
        self._stop = True
