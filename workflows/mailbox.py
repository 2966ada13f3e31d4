"""MailboxWorkflow: one per mailbox, polling it on a durable timer, forever.

Each poll fetches new mail by IMAP UID, stores and routes every message (an activity), then
**delivers the routes from workflow code**: a new ticket is started as a child workflow (it
outlives this one: ``ABANDON``), a customer's message is signalled to its ticket, a ticket
whose workflow has ended is reopened by a new run carrying the message. Only then is the
mail flagged on the server (a second activity). Between polls the workflow sleeps on a
Temporal timer; the ``poll_now`` signal (the admin's "check now") wakes it early, ``stop``
ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        ACT_ACK_MAIL,
        ACT_FETCH_MAIL,
        ACT_POLL_MAILBOX,
        ACT_REOPENING,
        SIGNAL_CUSTOMER_MESSAGE,
        TICKET_TASK_QUEUE,
        TICKET_WORKFLOW,
        CustomerMessageInput,
        MailboxAckInput,
        MailboxPollInput,
        MailboxPollResult,
        MailRoute,
        ReopeningInput,
        ReopeningResult,
        TicketStartInput,
    )
    from tempodesk.core.ids import ticket_workflow_id

POLLS_PER_RUN = 200  # then continue-as-new: the history of a mailbox never grows unbounded
IMAP_START_TO_CLOSE = timedelta(minutes=15)
IMAP_HEARTBEAT = timedelta(minutes=2)
IMAP_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))
# Runs started before the workflow delivered routes itself replay the old poll activity.
ROUTES_IN_WORKFLOW = "routes-in-workflow"


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
            result = await self._poll(input)
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

    async def _poll(self, input: MailboxPollInput) -> MailboxPollResult:
        if not workflow.patched(ROUTES_IN_WORKFLOW):
            return await _imap(ACT_POLL_MAILBOX, input)
        result = await _imap(ACT_FETCH_MAIL, input)
        await self._deliver(result.routes)
        if result.uids or result.last_uid:
            ack = MailboxAckInput(input.mailbox, result.uidvalidity, result.uids, result.last_uid)
            await _imap(ACT_ACK_MAIL, ack)
        return result

    async def _deliver(self, routes: list[MailRoute]) -> None:
        """New tickets all at once; then each ticket's messages one after another in arrival
        order (a message may be for a ticket started just before), tickets side by side."""
        await asyncio.gather(*(self._start(r.start) for r in routes if r.start is not None))
        told: dict[str, list[CustomerMessageInput]] = {}
        for route in routes:
            if route.message is not None:
                told.setdefault(route.number, []).append(route.message)
        await asyncio.gather(
            *(self._tell_all(number, messages) for number, messages in told.items())
        )

    async def _tell_all(self, number: str, messages: list[CustomerMessageInput]) -> None:
        for message in messages:
            await self._tell(number, message)

    async def _start(self, start: TicketStartInput, *, reuse: bool = False) -> bool:
        """Start a ticket's workflow; False if it runs already (an earlier delivery, or the
        worker's resume loop, started it)."""
        try:
            await workflow.start_child_workflow(
                TICKET_WORKFLOW,
                start,
                id=ticket_workflow_id(start.number),
                task_queue=TICKET_TASK_QUEUE,
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
                if reuse
                else WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"{start.number}: {start.subject[:150]}",
            )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def _tell(self, number: str, message: CustomerMessageInput) -> None:
        """Signal the message; a ticket whose workflow has ended gets a new run with it."""
        for _ in range(3):
            try:
                await workflow.get_external_workflow_handle(ticket_workflow_id(number)).signal(
                    SIGNAL_CUSTOMER_MESSAGE, message
                )
                return
            except FailureError:
                pass  # its workflow has ended (closed): reopen it with this message
            reopening: ReopeningResult = await workflow.execute_local_activity(
                ACT_REOPENING,
                ReopeningInput(number, message.message_id),
                result_type=ReopeningResult,
                start_to_close_timeout=timedelta(seconds=15),
            )
            if reopening.start is None:
                return  # the message is on its timeline already
            reopening.start.first_message = message
            if await self._start(reopening.start, reuse=True):
                return
            # A run started meanwhile: it takes the signal on the next pass.
        workflow.logger.warning("could not deliver message %s to %s", message.message_id, number)


async def _imap(name: str, arg: MailboxPollInput | MailboxAckInput) -> MailboxPollResult:
    """An activity that talks to the IMAP server: long, heartbeating, retried gently."""
    result: MailboxPollResult | None = await workflow.execute_activity(
        name,
        arg,
        result_type=MailboxPollResult,
        start_to_close_timeout=IMAP_START_TO_CLOSE,
        heartbeat_timeout=IMAP_HEARTBEAT,
        retry_policy=IMAP_RETRY,
    )
    return result or MailboxPollResult()
