"""The Temporal client facade: the only way the web and the CLI reach ticket workflows.

Flask views are synchronous; the Temporal client is asyncio. The facade owns one background
event loop (a daemon thread) with one client, created once, and offers blocking methods.
Errors come back as the domain exceptions below, never as Temporal's own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from tempodesk.contracts import (
    MAILBOX_WORKFLOW,
    MIGRATION_WORKFLOW,
    QUERY_SNAPSHOT,
    SA_CUSTOMER_EMAIL,
    SA_NUMBER,
    SA_PRIORITY,
    SA_PROCESS,
    SA_STATE,
    SA_STATE_CATEGORY,
    SIGNAL_CUSTOMER_MESSAGE,
    SIGNAL_POLL_NOW,
    SIGNAL_RELINK_CONTACT,
    TICKET_TASK_QUEUE,
    TICKET_WORKFLOW,
    UPDATE_CONFIRM_CREATED,
    UPDATE_PERFORM_ACTION,
    ConfirmCreatedInput,
    CustomerMessageInput,
    CustomerRef,
    MailboxPollInput,
    MigrationStartInput,
    PerformActionInput,
    PerformActionResult,
    PinnedProcess,
    RelinkContactInput,
    TicketSnapshot,
    TicketStartInput,
    mailbox_workflow_id,
    ticket_workflow_id,
)
from tempodesk.core.settings import Settings

T = TypeVar("T")


class EngineUnavailable(RuntimeError):
    """Temporal could not be reached or did not answer in time; the caller may retry."""


class TicketNotFound(LookupError):
    pass


class ActionRejected(Exception):
    """The workflow refused an action. ``code`` is one of: not_available, forbidden,
    invalid_fields, state_changed, not_ready, closed."""

    def __init__(self, code: str, message: str, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_errors = field_errors or {}


_REJECTIONS = {
    "ActionNotAvailable": "not_available",
    "ActionForbidden": "forbidden",
    "InvalidFields": "invalid_fields",
    "StateChanged": "state_changed",
    "NotReady": "not_ready",
}


class TemporalFacade:
    """Blocking access to ticket workflows from threads (Flask, CLI)."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0):
        self.settings = settings
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="temporal-client", daemon=True
        )
        self._thread.start()
        self._client: Client | None = None
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

    async def client(self) -> Client:
        async with self._connecting:
            if self._client is None:
                try:
                    self._client = await Client.connect(
                        self.settings.temporal_target, namespace=self.settings.temporal_namespace
                    )
                except Exception as exc:
                    raise EngineUnavailable(f"The ticket engine is unavailable: {exc}") from None
            return self._client

    # ------------------------------------------------------------------ tickets

    def start_ticket(self, start: TicketStartInput) -> TicketSnapshot:
        """Start the ticket's workflow, or join it if a retried request already did.

        Returns once the ticket is in the database, so it can be read at once.
        """
        return self._call(self._start_ticket(start))

    async def _start_ticket(self, start: TicketStartInput) -> TicketSnapshot:
        client = await self.client()
        workflow_id = ticket_workflow_id(start.number)
        state = _initial_state(start)
        operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            TICKET_WORKFLOW,  # by name: the web does not import workflow code
            start,
            id=workflow_id,
            task_queue=TICKET_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A retried creation must never restart a ticket that has since been closed.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_NUMBER, start.number),
                    SearchAttributePair(SA_STATE, state[0]),
                    SearchAttributePair(SA_STATE_CATEGORY, state[1]),
                    SearchAttributePair(SA_PRIORITY, start.priority),
                    SearchAttributePair(SA_CUSTOMER_EMAIL, start.customer.email or "-"),
                    SearchAttributePair(
                        SA_PROCESS, f"{start.process.name}:{start.process.version}"
                    ),
                ]
            ),
            static_summary=f"{start.number}: {start.subject[:150]}",
        )
        try:
            snapshot: TicketSnapshot = await client.execute_update_with_start_workflow(
                UPDATE_CONFIRM_CREATED,
                ConfirmCreatedInput(start.number),
                start_workflow_operation=operation,
                id=f"create-{start.number}",
                result_type=TicketSnapshot,
            )
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise EngineUnavailable(
                "The ticket engine did not confirm the ticket in time."
            ) from None
        except RPCError as exc:
            raise _engine_error(exc) from None
        return snapshot

    def perform_action(
        self, number: str, request: PerformActionInput, request_id: str | None = None
    ) -> PerformActionResult:
        """Ask the ticket's workflow to perform an action.

        The same ``request_id`` twice (a double click) performs it once and answers twice.
        """
        return self._call(self._perform_action(number, request, request_id))

    async def _perform_action(
        self, number: str, request: PerformActionInput, request_id: str | None
    ) -> PerformActionResult:
        client = await self.client()
        handle = client.get_workflow_handle(ticket_workflow_id(number))
        try:
            result: PerformActionResult = await handle.execute_update(
                UPDATE_PERFORM_ACTION, request, id=request_id, result_type=PerformActionResult
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError):
                details = cause.details[0] if cause.details else None
                raise ActionRejected(
                    _REJECTIONS.get(cause.type or "", "not_available"),
                    cause.message,
                    details if isinstance(details, dict) else None,
                ) from None
            raise
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise EngineUnavailable("The ticket engine did not answer in time.") from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ActionRejected(
                    "closed", "This ticket is closed; it takes no more actions."
                ) from None
            raise _engine_error(exc) from None
        return result

    def relink_contact(self, number: str, relink: RelinkContactInput) -> None:
        """Tell a ticket's workflow its customer is another contact; TicketNotFound if it ended."""
        self._call(self._signal(number, SIGNAL_RELINK_CONTACT, relink))

    def customer_message(self, number: str, message: CustomerMessageInput) -> None:
        """Tell the ticket's workflow that the customer wrote (message already stored)."""
        self._call(self._signal(number, SIGNAL_CUSTOMER_MESSAGE, message))

    async def _signal(self, number: str, name: str, arg: Any) -> None:
        client = await self.client()
        try:
            await client.get_workflow_handle(ticket_workflow_id(number)).signal(name, arg)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise TicketNotFound(number) from None
            raise _engine_error(exc) from None

    def reopen_ticket(
        self, process: PinnedProcess, snapshot: TicketSnapshot, message: CustomerMessageInput
    ) -> None:
        """A closed ticket's customer wrote again: start a new run of its workflow (same id),
        restored from the database and reopened, with the message as its first signal."""
        self._call(self._reopen_ticket(process, snapshot, message))

    async def _reopen_ticket(
        self, process: PinnedProcess, snapshot: TicketSnapshot, message: CustomerMessageInput
    ) -> None:
        client = await self.client()
        start = TicketStartInput(
            number=snapshot.number,
            subject=snapshot.subject,
            channel=snapshot.channel,
            customer=CustomerRef(email=snapshot.customer_email, name=snapshot.customer_name),
            process=process,
            restored=snapshot,
            reopen=True,
            mailbox=snapshot.mailbox,
        )
        try:
            await client.start_workflow(
                TICKET_WORKFLOW,
                start,
                id=ticket_workflow_id(snapshot.number),
                task_queue=TICKET_TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                start_signal=SIGNAL_CUSTOMER_MESSAGE,
                start_signal_args=[message],
            )
        except RPCError as exc:
            raise _engine_error(exc) from None

    def ensure_mailbox(self, name: str) -> None:
        """Start the mailbox's polling workflow, or wake it if it runs (check mail now)."""
        self._call(self._ensure_mailbox(name))

    async def _ensure_mailbox(self, name: str) -> None:
        client = await self.client()
        try:
            await client.start_workflow(
                MAILBOX_WORKFLOW,
                MailboxPollInput(name),
                id=mailbox_workflow_id(name),
                task_queue=TICKET_TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                start_signal=SIGNAL_POLL_NOW,
            )
        except RPCError as exc:
            raise _engine_error(exc) from None

    def start_migration(self, migration_id: int) -> None:
        """Start the durable walk over a planned process migration."""
        self._call(self._start_migration(migration_id))

    async def _start_migration(self, migration_id: int) -> None:
        client = await self.client()
        try:
            await client.start_workflow(
                MIGRATION_WORKFLOW,
                MigrationStartInput(migration_id),
                id=f"process-migration-{migration_id}",
                task_queue=TICKET_TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        except RPCError as exc:
            raise _engine_error(exc) from None

    def snapshot(self, number: str) -> TicketSnapshot:
        """The live state of a running ticket, straight from its workflow."""
        return self._call(self._snapshot(number))

    async def _snapshot(self, number: str) -> TicketSnapshot:
        client = await self.client()
        try:
            result: TicketSnapshot = await client.get_workflow_handle(
                ticket_workflow_id(number)
            ).query(QUERY_SNAPSHOT, result_type=TicketSnapshot)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise TicketNotFound(number) from None
            raise _engine_error(exc) from None
        return result


def _initial_state(start: TicketStartInput) -> tuple[str, str]:
    from statemachines import compile_pinned

    definition = compile_pinned(start.process.document).definition
    state = definition.state(definition.initial)
    return state.id, state.category


def _engine_error(exc: RPCError) -> EngineUnavailable:
    return EngineUnavailable(f"The ticket engine refused the request: {exc.message}")
