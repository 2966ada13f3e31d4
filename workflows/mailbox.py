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
from typing import NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        ACT_ACK_MAIL,
        ACT_FETCH_MAIL,
        ACT_POLL_MAILBOX,
        ACT_RESTART,
        MAILBOX_TASK_QUEUE,
        SIGNAL_CUSTOMER_MESSAGE,
        TICKET_TASK_QUEUE,
        TICKET_WORKFLOW,
        CustomerMessageInput,
        MailboxAckInput,
        MailboxPollInput,
        MailboxPollResult,
        MailRoute,
        RestartInput,
        RestartResult,
        TicketStartInput,
    )
    from tempodesk.core.ids import ticket_workflow_id

POLLS_PER_RUN = 200  # then continue-as-new: the history of a mailbox never grows unbounded
CHILDREN_PER_RUN = 500  # tickets started by one run (the server refuses past 2,000)
NOT_FOUND = "ExternalWorkflowExecutionNotFound"  # a signal to a workflow that has ended
IMAP_START_TO_CLOSE = timedelta(minutes=15)
IMAP_HEARTBEAT = timedelta(minutes=2)
IMAP_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))
# Runs started before the workflow delivered routes itself replay the old poll activity.
ROUTES_IN_WORKFLOW = "routes-in-workflow"
# Runs started before polls were pipelined replay one fetch, delivery and flagging at a time.
PIPELINED_POLLS = "pipelined-polls"
# Runs started before the mailboxes had their own task queue continue on the tickets' queue;
# since, a run not on ``MAILBOX_TASK_QUEUE`` (``MailboxPollInput.own_queue`` unset: started by
# an older web or worker, or continued from such a run) continues as new there before polling.
# (The input decides, not ``workflow.info().task_queue``: a Replayer runs on a queue of its own.)
OWN_QUEUE = "mailbox-own-queue"


@workflow.defn
class MailboxWorkflow:
    def __init__(self) -> None:
        self._wake = False
        self._stop = False
        # A started child counts against this run until it closes, even abandoned: a run
        # that started many tickets continues as new long before the server's limit.
        self._children = 0
        # The lowest UID not delivered since the backlog began (0: none): flags stop below it.
        self._floor = 0
        self._floor_validity = 0

    @workflow.run
    async def run(self, input: MailboxPollInput) -> None:
        if not input.own_queue and workflow.patched(OWN_QUEUE):
            _continue(input)  # started on the tickets' queue: move before polling
        if workflow.patched(PIPELINED_POLLS):
            await self._run_pipelined(input)
            return
        for _ in range(POLLS_PER_RUN):
            if self._stop:
                return
            result = await self._poll(input)
            if result.stopped:
                return
            if self._run_is_long():
                break
            if result.more and not self._stop:
                continue  # a backlog: drain it before sleeping
            with contextlib.suppress(TimeoutError):  # the poll interval passed
                await workflow.wait_condition(
                    lambda: self._wake or self._stop,
                    timeout=timedelta(seconds=max(result.next_poll_seconds, 1)),
                )
            self._wake = False
        if not self._stop:
            _continue(input)

    async def _run_pipelined(self, input: MailboxPollInput) -> None:
        """Polls, where a backlog's next batch is fetched (stored, routed: visible) while the
        one before is still being delivered and flagged. Deliveries and flags stay one batch
        after another, in arrival order; a batch is fetched from after the one before it
        (``after_uid``), since that one is not flagged yet."""
        behind: asyncio.Task[None] | None = None  # delivering and flagging the batch before
        after = MailboxPollInput(input.mailbox)
        result = MailboxPollResult()
        for _ in range(POLLS_PER_RUN):
            if self._stop:
                break
            result = await _imap(ACT_FETCH_MAIL, after)
            if behind is not None:
                await behind
            behind = asyncio.create_task(self._deliver_and_ack(input, result))
            if result.stopped or self._run_is_long():
                break
            if result.more and not self._stop:
                # A backlog: read on from this batch while it is delivered.
                after = MailboxPollInput(input.mailbox, result.last_uid, result.uidvalidity)
                continue
            await behind
            behind, after, self._floor = None, MailboxPollInput(input.mailbox), 0
            with contextlib.suppress(TimeoutError):  # the poll interval passed
                await workflow.wait_condition(
                    lambda: self._wake or self._stop,
                    timeout=timedelta(seconds=max(result.next_poll_seconds, 1)),
                )
            self._wake = False
        if behind is not None:
            await behind
        if not self._stop and not result.stopped:
            _continue(input)

    async def _deliver_and_ack(self, input: MailboxPollInput, result: MailboxPollResult) -> None:
        """Deliver a batch's routes, then flag what was delivered. ``last_uid`` never passes
        mail not delivered in this run of batches (``_floor``), so once the backlog is done
        the next poll reads that mail again from there."""
        undelivered = await self._deliver(result)
        if result.uidvalidity != self._floor_validity:  # other UIDs: the floor means nothing
            self._floor, self._floor_validity = 0, result.uidvalidity
        last_uid, self._floor = flag_up_to(result.last_uid, undelivered, self._floor)
        uids = [uid for uid in result.uids if uid not in undelivered]
        if uids or last_uid:
            await _imap(
                ACT_ACK_MAIL, MailboxAckInput(input.mailbox, result.uidvalidity, uids, last_uid)
            )

    def _run_is_long(self) -> bool:
        return self._children >= CHILDREN_PER_RUN or workflow.info().is_continue_as_new_suggested()

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
        undelivered = await self._deliver(result)
        uids = [uid for uid in result.uids if uid not in undelivered]
        last_uid = min([*undelivered, result.last_uid + 1]) - 1 if result.last_uid else 0
        if uids or last_uid:
            await _imap(
                ACT_ACK_MAIL, MailboxAckInput(input.mailbox, result.uidvalidity, uids, last_uid)
            )
        return result

    async def _deliver(self, result: MailboxPollResult) -> set[int]:
        """New tickets all at once; then each ticket's messages one after another in arrival
        order (a message may be for a ticket started just before), tickets side by side. The
        UIDs of mail not delivered (they stay unflagged: the next poll routes them again)."""
        starts = [(r.uid, r.documented(result.processes).start) for r in result.routes if r.start]
        started = await asyncio.gather(*(self._start(start) for _, start in starts if start))
        undelivered = {uid for (uid, _), ok in zip(starts, started, strict=True) if ok is None}
        told: dict[str, list[MailRoute]] = {}
        for route in result.routes:
            if route.message is not None:
                told.setdefault(route.number, []).append(route)
        for failed in await asyncio.gather(*(self._tell_all(r) for r in told.values())):
            undelivered |= failed
        return undelivered

    async def _tell_all(self, routes: list[MailRoute]) -> set[int]:
        """One ticket's messages, in order; after one fails, the rest wait for the next poll."""
        for index, route in enumerate(routes):
            assert route.message is not None
            if not await self._tell(route.number, route.message):
                return {r.uid for r in routes[index:]}
        return set()

    async def _start(self, start: TicketStartInput, *, reuse: bool = False) -> bool | None:
        """Start a ticket's workflow: True if started, False if it runs already (an earlier
        delivery, or the worker's resume loop, started it), None if the start failed."""
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
        except FailureError as exc:
            workflow.logger.warning("could not start %s: %s", start.number, exc)
            return None
        self._children += 1
        return True

    async def _tell(self, number: str, message: CustomerMessageInput) -> bool:
        """Signal the message; a ticket with no running workflow (closed, or accepted while
        Temporal was away and not started yet) is started first (``restart``), then told.
        False if it could not be delivered now."""
        handle = workflow.get_external_workflow_handle(ticket_workflow_id(number))
        for _ in range(3):
            try:
                await handle.signal(SIGNAL_CUSTOMER_MESSAGE, message)
                return True
            except ApplicationError as exc:
                if exc.type != NOT_FOUND:
                    workflow.logger.warning("could not tell %s: %s", number, exc)
                    return False
            restart: RestartResult = await workflow.execute_local_activity(
                ACT_RESTART,
                RestartInput(number, message.message_id),
                result_type=RestartResult,
                start_to_close_timeout=timedelta(seconds=15),
            )
            if restart.start is None:
                return True  # the message is on its timeline already
            if await self._start(restart.start, reuse=True) is None:
                return False
        return False


def flag_up_to(last_uid: int, undelivered: set[int], floor: int) -> tuple[int, int]:
    """How far a batch may move ``last_uid`` (read up to ``last_uid``, ``undelivered`` not
    delivered, ``floor`` the lowest UID left undelivered by an earlier batch of the backlog,
    0: none), and the floor from now on. 0 leaves ``last_uid`` where it is."""
    floor = min([*undelivered, *([floor] if floor else [])], default=0)
    if last_uid and floor:
        last_uid = min(last_uid, floor - 1)
    return last_uid, floor


def _continue(input: MailboxPollInput) -> NoReturn:
    """Continue as new: on the mailboxes' own queue once this run knows it (``OWN_QUEUE``),
    else where this run is, as runs before it did."""
    if input.own_queue or workflow.patched(OWN_QUEUE):
        workflow.continue_as_new(
            MailboxPollInput(input.mailbox, own_queue=True), task_queue=MAILBOX_TASK_QUEUE
        )
    workflow.continue_as_new(MailboxPollInput(input.mailbox))


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
