"""Ticket workflows as the rest of Tempodesk reaches them: by name, with domain errors.

- ``AsyncFacade`` does it asynchronously with one ``temporalio`` client (one per process).
- ``TemporalFacade`` is the same for threads (Flask views, the CLI): it owns one background
  event loop (a daemon thread) with one client, created once, and offers blocking methods.

Workflows, updates, signals and queries are named by ``tempodesk.contracts``'s constants, so
nothing here imports workflow code. Errors come back as the exceptions below, never Temporal's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from statemachines import REJECTION_TYPES, Rejection
from tempodesk.contracts import (
    MAILBOX_TASK_QUEUE,
    MAILBOX_WORKFLOW,
    MIGRATION_WORKFLOW,
    SIGNAL_CUSTOMER_MESSAGE,
    SIGNAL_POLL_NOW,
    SIGNAL_RATE,
    SIGNAL_RELINK_CONTACT,
    SIGNAL_SLA_CHANGED,
    SIGNAL_TRIGGERS_CHANGED,
    SIGNAL_WEBHOOK_WAKE,
    TICKET_TASK_QUEUE,
    TICKET_WORKFLOW,
    UPDATE_CONFIRM_CREATED,
    UPDATE_MERGE_INTO,
    UPDATE_PERFORM_ACTION,
    UPDATE_REROUTE,
    WEBHOOK_WORKFLOW,
    ConfirmCreatedInput,
    ConfirmCreatedResult,
    CustomerMessageInput,
    MailboxPollInput,
    MergeTicketInput,
    MergeTicketResult,
    MigrationStartInput,
    PerformActionInput,
    PerformActionResult,
    RateInput,
    RelinkContactInput,
    RerouteInput,
    RerouteResult,
    SlaChangedInput,
    TicketStartInput,
    WebhookRunInput,
)
from tempodesk.contracts.bulk import BULK_WORKFLOW, BulkRunInput
from tempodesk.contracts.privacy import (
    RETENTION_SCHEDULE_ID,
    RETENTION_WORKFLOW,
    RetentionRunInput,
)
from tempodesk.core import metrics
from tempodesk.core.ids import (
    create_update_id,
    mailbox_workflow_id,
    migration_workflow_id,
    ticket_workflow_id,
    webhook_workflow_id,
)
from tempodesk.core.settings import Settings
from tempodesk.core.temporal_client import connect
from tempodesk.core.temporal_ops import Inspection

T = TypeVar("T")
DELETE_ATTEMPTS = 120  # 30 s: on a busy server Temporal ignored deletions for over 5 s
DELETE_PAUSE = 0.25


class EngineUnavailable(RuntimeError):
    """Temporal could not be reached or did not answer in time; the caller may retry."""


class OpeningFailed(EngineUnavailable):
    """The ticket's workflow could not open it (its opening step failed for good): nothing is
    lost, the pending start keeps the reason and the worker tries it again later (so callers
    answer as when the engine is away). ``recorded``: the opening step wrote the reason."""

    def __init__(self, message: str, *, recorded: bool = True):
        super().__init__(message)
        self.recorded = recorded


class TicketNotFound(LookupError):
    pass


class MergeRefused(Exception):
    """The ticket refused to be merged (the workflow's reason, in English)."""


class RelationRefused(MergeRefused):
    """The ticket refused a link or tags (the workflow's reason, in English)."""


class ActionRejected(Exception):
    """The ticket refused an action; ``rejection`` says why (a code and its parameters, see
    ``statemachines.check_action``). ``code`` is its broad kind, as the REST API reports it:
    not_available, forbidden, invalid_fields, state_changed, not_ready, closed."""

    def __init__(self, rejection: Rejection):
        super().__init__(rejection.message)
        self.rejection = rejection
        self.code = rejection.kind
        self.message = rejection.message
        self.field_errors = rejection.field_errors


def _rejection(error: ApplicationError) -> Rejection:
    details = error.details[0] if error.details else None
    found = Rejection.from_details(details)
    if found is not None:
        return found
    # A worker older than coded rejections: its type, its text, the field errors as details.
    kinds = {error_type: kind for kind, error_type in REJECTION_TYPES.items()}
    code = kinds.get(error.type or "", "not_available")
    fields = details if isinstance(details, dict) and code == "invalid_fields" else {}
    errors = {str(k): str(v) for k, v in fields.items()}
    return Rejection(code, field_errors=errors, text=error.message)


def _engine_error(exc: RPCError) -> EngineUnavailable:
    return EngineUnavailable(f"The ticket engine refused the request: {exc.message}")


class AsyncFacade(Inspection):
    """Ticket, mailbox and migration workflows through one client (async)."""

    def __init__(self, client: Client):
        self.client = client

    async def ping(self, timeout: float = 3.0) -> None:
        """EngineUnavailable unless the frontend answers its health check in ``timeout``."""
        try:
            ok = await self.client.service_client.check_health(timeout=timedelta(seconds=timeout))
        except RPCError as exc:
            raise _engine_error(exc) from None
        if not ok:
            raise EngineUnavailable("The ticket engine reports it is not serving.")

    async def start_ticket(self, start: TicketStartInput) -> ConfirmCreatedResult:
        """Start the ticket's workflow, or join it if a retried request already did; answers
        once the ticket is in the database, so it can be read at once. The workflow sets its
        search attributes itself."""
        operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            TICKET_WORKFLOW,
            start,
            id=ticket_workflow_id(start.number),
            task_queue=TICKET_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A retried creation must never restart a ticket that has since been closed; a run
            # whose opening failed (the database refused it) may be started again.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            static_summary=f"{start.number}: {start.subject[:150]}",
        )
        try:
            result: ConfirmCreatedResult = await self.client.execute_update_with_start_workflow(
                UPDATE_CONFIRM_CREATED,
                ConfirmCreatedInput(start.number),
                start_workflow_operation=operation,
                id=create_update_id(start.number),
                result_type=ConfirmCreatedResult,
            )
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise EngineUnavailable(
                "The ticket engine did not confirm the ticket in time."
            ) from None
        except WorkflowUpdateFailedError as exc:
            # The run ended before the ticket was opened: its opening step failed for good
            # (and recorded why on the pending start).
            raise OpeningFailed(f"Ticket {start.number} could not be opened: {exc}") from None
        except WorkflowAlreadyStartedError:
            raise OpeningFailed(
                f"Ticket {start.number}: its workflow has ended and may not start again.",
                recorded=False,
            ) from None
        except RPCError as exc:
            raise _engine_error(exc) from None
        return result

    async def perform_action(
        self, number: str, request: PerformActionInput, request_id: str | None = None
    ) -> PerformActionResult:
        """Ask the ticket's workflow to perform an action. The same ``request_id`` twice (a
        double click) performs it once and answers twice."""
        handle = self.client.get_workflow_handle(ticket_workflow_id(number))
        try:
            result: PerformActionResult = await handle.execute_update(
                UPDATE_PERFORM_ACTION, request, id=request_id, result_type=PerformActionResult
            )
        except WorkflowUpdateFailedError as exc:
            if isinstance(exc.cause, ApplicationError):
                raise ActionRejected(_rejection(exc.cause)) from None
            raise
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise EngineUnavailable("The ticket engine did not answer in time.") from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ActionRejected(Rejection("closed")) from None
            raise _engine_error(exc) from None
        return result

    async def reroute(self, number: str, request: RerouteInput) -> RerouteResult:
        """Ask the ticket's workflow to route itself again (rules, then its group's strategy)."""
        handle = self.client.get_workflow_handle(ticket_workflow_id(number))
        try:
            result: RerouteResult = await handle.execute_update(
                UPDATE_REROUTE, request, result_type=RerouteResult
            )
        except WorkflowUpdateFailedError as exc:
            if isinstance(exc.cause, ApplicationError):
                raise ActionRejected(Rejection("closed")) from None
            raise
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise EngineUnavailable("The ticket engine did not answer in time.") from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ActionRejected(Rejection("closed")) from None
            raise _engine_error(exc) from None
        return result

    async def merge_ticket(
        self, number: str, request: MergeTicketInput, request_id: str | None = None
    ) -> MergeTicketResult:
        """Ask ticket ``number`` to merge into ``request.into`` (it tells the survivor). The
        same ``request_id`` twice merges once."""
        handle = self.client.get_workflow_handle(ticket_workflow_id(number))
        try:
            result: MergeTicketResult = await handle.execute_update(
                UPDATE_MERGE_INTO, request, id=request_id, result_type=MergeTicketResult
            )
        except WorkflowUpdateFailedError as exc:
            raise MergeRefused(getattr(exc.cause, "message", str(exc))) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise EngineUnavailable("The ticket engine did not answer in time.") from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise MergeRefused(f"Ticket {number} is closed; it cannot be merged.") from None
            raise _engine_error(exc) from None
        return result

    async def relate(
        self, number: str, update: str, request: Any, result_type: type[T], request_id: str | None
    ) -> T:
        """Ask ticket ``number`` to link or tag (``UPDATE_LINK_TICKET``, ``UPDATE_TAG_TICKET``)."""
        handle = self.client.get_workflow_handle(ticket_workflow_id(number))
        try:
            return await handle.execute_update(
                update, request, id=request_id, result_type=result_type
            )
        except WorkflowUpdateFailedError as exc:
            raise RelationRefused(getattr(exc.cause, "message", str(exc))) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise EngineUnavailable("The ticket engine did not answer in time.") from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise RelationRefused("This ticket is closed; it cannot be changed.") from None
            raise _engine_error(exc) from None

    async def signal_ticket(self, number: str, name: str, arg: Any) -> None:
        """A fact for a running ticket; TicketNotFound if its workflow has ended."""
        try:
            await self.client.get_workflow_handle(ticket_workflow_id(number)).signal(name, arg)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise TicketNotFound(number) from None
            raise _engine_error(exc) from None

    async def signal_tickets(self, numbers: list[str], name: str, arg: Any) -> list[str]:
        """The same fact for many tickets, 16 at a time; the numbers whose workflow ended."""
        gate, ended = asyncio.Semaphore(16), []

        async def one(number: str) -> None:
            async with gate:
                try:
                    await self.signal_ticket(number, name, arg)
                except TicketNotFound:
                    ended.append(number)

        await asyncio.gather(*(one(n) for n in numbers))
        return ended

    async def start_with_message(
        self, start: TicketStartInput, message: CustomerMessageInput
    ) -> None:
        """Start a ticket's run with a message as its first signal (signal-with-start): a
        closed ticket's new run (``TicketStartInput.reopening``), or the first run of a
        ticket accepted but not started; a run that started meanwhile gets the signal."""
        await self._start(
            TICKET_WORKFLOW,
            start,
            id=ticket_workflow_id(start.number),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            start_signal=SIGNAL_CUSTOMER_MESSAGE,
            start_signal_args=[message],
        )

    async def rate(self, start: TicketStartInput, rating: RateInput) -> None:
        """Tell the ticket a customer's rating (signal-with-start): a running ticket gets the
        signal; an ended one a new run (``TicketStartInput.restoring``) that records it and
        ends, still closed."""
        await self._start(
            TICKET_WORKFLOW,
            start,
            id=ticket_workflow_id(start.number),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            start_signal=SIGNAL_RATE,
            start_signal_args=[rating],
        )

    async def ensure_mailbox(self, name: str, *, poll_now: bool = True) -> None:
        """Start the mailbox's polling workflow if it does not run (and wake it: check now)."""
        await self._start(
            MAILBOX_WORKFLOW,
            MailboxPollInput(name, own_queue=True),
            id=mailbox_workflow_id(name),
            task_queue=MAILBOX_TASK_QUEUE,
            start_signal=SIGNAL_POLL_NOW if poll_now else None,
        )

    async def start_migration(self, migration_id: int) -> None:
        """Start the durable walk over a planned process migration."""
        await self._start(
            MIGRATION_WORKFLOW,
            MigrationStartInput(migration_id),
            id=migration_workflow_id(migration_id),
        )

    async def wake_webhook(self, subscription_id: int) -> None:
        """Start the subscription's delivery workflow, or wake it: deliveries wait for it."""
        await self._start(
            WEBHOOK_WORKFLOW,
            WebhookRunInput(subscription_id),
            id=webhook_workflow_id(subscription_id),
            start_signal=SIGNAL_WEBHOOK_WAKE,
        )

    async def start_bulk(self, bulk_id: int) -> None:
        """Start a bulk message's sending workflow (or join the one running)."""
        await self._start(BULK_WORKFLOW, BulkRunInput(bulk_id), id=f"bulk-{bulk_id}")

    async def ensure_retention_schedule(self, months: int, every_hours: float) -> None:
        """The schedule that starts the retention workflow every ``every_hours`` while
        ``months`` > 0 (created, or its interval updated); removed when retention is off."""
        handle = self.client.get_schedule_handle(RETENTION_SCHEDULE_ID)
        if months <= 0:
            with contextlib.suppress(RPCError):
                await handle.delete()
            return
        interval = ScheduleIntervalSpec(every=timedelta(hours=every_hours))
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                RETENTION_WORKFLOW,
                RetentionRunInput(),
                id=RETENTION_SCHEDULE_ID,
                task_queue=TICKET_TASK_QUEUE,
            ),
            spec=ScheduleSpec(intervals=[interval]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        )
        try:
            await self.client.create_schedule(RETENTION_SCHEDULE_ID, schedule)
        except ScheduleAlreadyRunningError:

            def updated(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await handle.update(updated)
        except RPCError as exc:
            raise _engine_error(exc) from None

    async def delete_workflows(self, workflow_ids: list[str]) -> int:
        """Delete every run of these workflows with its history (a running one is terminated
        first, by Temporal); the runs deleted. For forgetting a person: histories hold their
        address and words until the namespace's retention otherwise."""
        deleted = 0
        for workflow_id in workflow_ids:
            deleted += await self._delete_current(workflow_id)
            try:
                async for run in self.client.list_workflows(f'WorkflowId = "{workflow_id}"'):
                    deleted += await self._delete_run(run.id, run.run_id)
            except RPCError as exc:
                raise _engine_error(exc) from None
        return deleted

    async def _delete_current(self, workflow_id: str) -> int:
        """Delete the current run by its run id until it is gone: Temporal ignores a
        deletion while a run that has just closed still has close tasks pending."""
        deleted = 0
        for _ in range(DELETE_ATTEMPTS):
            try:
                run = await self.client.get_workflow_handle(workflow_id).describe()
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return deleted
                raise _engine_error(exc) from None
            deleted = max(deleted, await self._delete_run(workflow_id, run.run_id))
            await asyncio.sleep(DELETE_PAUSE)
        return deleted

    async def _delete_run(self, workflow_id: str, run_id: str) -> int:
        request = DeleteWorkflowExecutionRequest(
            namespace=self.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        )
        try:
            await self.client.workflow_service.delete_workflow_execution(request)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return 0
            raise _engine_error(exc) from None
        return 1

    async def _start(self, workflow: str, arg: Any, *, id: str, **options: Any) -> None:
        """Start a workflow (the tickets' queue if not told), or join the one running as ``id``."""
        try:
            await self.client.start_workflow(
                workflow,
                arg,
                id=id,
                task_queue=options.pop("task_queue", TICKET_TASK_QUEUE),
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                **options,
            )
        except RPCError as exc:
            raise _engine_error(exc) from None


class TemporalFacade:
    """``AsyncFacade`` for threads (Flask, CLI): blocking calls on a background event loop."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0):
        self.settings = settings
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="temporal-client", daemon=True
        )
        self._thread.start()
        self._async: AsyncFacade | None = None
        self._connecting = asyncio.Lock()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self.timeout)
        except FutureTimeout:
            future.cancel()
            raise EngineUnavailable("The ticket engine did not answer in time.") from None

    async def connected(self) -> AsyncFacade:
        """The async facade on this facade's client (connected on first use)."""
        async with self._connecting:
            if self._async is None:
                try:
                    client = await connect(self.settings)
                except Exception as exc:
                    raise EngineUnavailable(f"The ticket engine is unavailable: {exc}") from None
                self._async = AsyncFacade(client)
            return self._async

    async def _on_loop(self, call: Callable[[AsyncFacade], Awaitable[T]]) -> T:
        return await call(await self.connected())

    def run(self, call: Callable[[AsyncFacade], Awaitable[T]]) -> T:
        """``await call(temporal)`` on the facade's loop, from any thread."""
        return self._call(self._on_loop(call))

    def start_ticket(self, start: TicketStartInput) -> ConfirmCreatedResult:
        return self._call(self._on_loop(lambda e: e.start_ticket(start)))

    def perform_action(
        self, number: str, request: PerformActionInput, request_id: str | None = None
    ) -> PerformActionResult:
        outcome = "unavailable"
        try:
            result = self._call(
                self._on_loop(lambda e: e.perform_action(number, request, request_id))
            )
            outcome = "done"
        except ActionRejected:
            outcome = "rejected"
            raise
        finally:
            metrics.ACTIONS.labels(request.action[:64], outcome).inc()
        return result

    def reroute(self, number: str, request: RerouteInput) -> RerouteResult:
        return self._call(self._on_loop(lambda e: e.reroute(number, request)))

    def merge_ticket(
        self, number: str, request: MergeTicketInput, request_id: str | None = None
    ) -> MergeTicketResult:
        return self._call(self._on_loop(lambda e: e.merge_ticket(number, request, request_id)))

    def relate(
        self,
        number: str,
        update: str,
        request: Any,
        result_type: type[T],
        request_id: str | None = None,
    ) -> T:
        """Ask a ticket to link or tag (see ``AsyncFacade.relate``); RelationRefused: why not."""
        return self._call(
            self._on_loop(lambda e: e.relate(number, update, request, result_type, request_id))
        )

    def relink_contact(self, number: str, relink: RelinkContactInput) -> None:
        """Tell a ticket's workflow its customer is another contact; TicketNotFound if it ended."""
        self._call(self._on_loop(lambda e: e.signal_ticket(number, SIGNAL_RELINK_CONTACT, relink)))

    def sla_changed(self, numbers: list[str], reason: str) -> list[str]:
        """Tell open tickets a policy or calendar changed (each re-selects and re-arms);
        the numbers whose workflow had ended."""
        change = SlaChangedInput(reason)
        return self._call(
            self._on_loop(lambda e: e.signal_tickets(numbers, SIGNAL_SLA_CHANGED, change))
        )

    def triggers_changed(self, numbers: list[str], change: Any) -> list[str]:
        """Tell open tickets the triggers changed (``TriggersChangedInput``: the whole list);
        the numbers whose workflow had ended."""
        return self._call(
            self._on_loop(lambda e: e.signal_tickets(numbers, SIGNAL_TRIGGERS_CHANGED, change))
        )

    def customer_message(self, number: str, message: CustomerMessageInput) -> None:
        """Tell the ticket's workflow that the customer wrote (message already stored)."""
        self._call(
            self._on_loop(lambda e: e.signal_ticket(number, SIGNAL_CUSTOMER_MESSAGE, message))
        )

    def rate(self, start: TicketStartInput, rating: RateInput) -> None:
        """Tell the ticket (running or ended) a customer's rating."""
        self._call(self._on_loop(lambda e: e.rate(start, rating)))

    def ensure_mailbox(self, name: str) -> None:
        """Start the mailbox's polling workflow, or wake it if it runs (check mail now)."""
        self._call(self._on_loop(lambda e: e.ensure_mailbox(name)))

    def wake_webhook(self, subscription_id: int) -> None:
        """Have the subscription's delivery workflow send what waits (a test ping)."""
        self._call(self._on_loop(lambda e: e.wake_webhook(subscription_id)))

    def start_bulk(self, bulk_id: int) -> None:
        self._call(self._on_loop(lambda e: e.start_bulk(bulk_id)))

    def delete_workflows(self, workflow_ids: list[str]) -> int:
        """Delete these workflows' runs and histories (see ``AsyncFacade.delete_workflows``)."""
        return self._call(self._on_loop(lambda e: e.delete_workflows(workflow_ids)))

    def start_migration(self, migration_id: int) -> None:
        self._call(self._on_loop(lambda e: e.start_migration(migration_id)))

    def ping(self, timeout: float = 3.0) -> None:
        """EngineUnavailable unless Temporal answers within ``timeout`` seconds."""
        future = asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(self._on_loop(lambda e: e.ping(timeout)), timeout), self._loop
        )
        try:
            future.result(timeout + 1)
        except (FutureTimeout, TimeoutError):
            future.cancel()
            raise EngineUnavailable("The ticket engine did not answer in time.") from None
