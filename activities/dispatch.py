"""The one door through which an activity drives another workflow (ARCHITECTURE.md).

Workflow code starts and signals ticket workflows itself (the mailbox workflow does), but it
cannot send an Update: a process migration asks each ticket with the ``migrate_process``
Update, and only a client can. That client is the worker's own (one client per worker
process), and this module is the only activity code that uses it.

Two activities here serve only runs that started before their workflows drove the tickets
themselves (they replay the old commands; ``workflow.patched`` chooses): ``migrate_tickets``
(a whole migration in one activity) and ``poll_mailbox`` (a poll that delivered its routes
and flagged the mail itself). New runs never schedule them.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.mailbox import MailboxActivities
from activities.migration import MigrationStore, Plan
from tempodesk.contracts import (
    ACT_MIGRATE_TICKET,
    ACT_MIGRATE_TICKETS,
    ACT_POLL_MAILBOX,
    UPDATE_MIGRATE_PROCESS,
    MailboxAckInput,
    MailboxPollInput,
    MailboxPollResult,
    MigrateProcessResult,
    MigrateTicketInput,
    MigrateTicketResult,
    MigrationItemsInput,
    MigrationResult,
    MigrationStartInput,
)
from tempodesk.core.ids import migrate_update_id, ticket_workflow_id
from tempodesk.core.temporal import AsyncFacade
from tempodesk.mail.inbound import deliver

LEGACY_CONCURRENCY = 4
WAKE_SECONDS = 5.0
log = logging.getLogger(__name__)


class Dispatch:
    """Built on the worker's event loop (``loop``: where its client lives)."""

    def __init__(
        self,
        client: Client,
        migrations: MigrationStore,
        mail: MailboxActivities,
        loop: asyncio.AbstractEventLoop,
    ):
        self.client = client
        self.migrations = migrations
        self.mail = mail
        self.loop = loop
        self._plans: dict[int, Plan | None] = {}

    def wake_webhooks(self, subscription_ids: set[int]) -> None:
        """Wake the delivery workflows of subscriptions the projection just queued for (from
        an activity's thread). A wake that fails is logged: the deliveries are rows, and the
        worker's loop wakes every subscription with deliveries waiting now and then."""
        if not subscription_ids:
            return
        temporal = AsyncFacade(self.client)
        for subscription_id in sorted(subscription_ids):
            wake = temporal.wake_webhook(subscription_id)
            try:
                asyncio.run_coroutine_threadsafe(wake, self.loop).result(WAKE_SECONDS)
            except Exception:
                log.warning("waking webhook %s failed; the worker's loop will", subscription_id)

    async def delete_workflows(self, workflow_ids: list[str]) -> int:
        """Delete these workflows' runs and histories (forgotten tickets: retention)."""
        return await AsyncFacade(self.client).delete_workflows(workflow_ids)

    @activity.defn(name=ACT_MIGRATE_TICKET)
    async def migrate_ticket(self, input: MigrateTicketInput) -> MigrateTicketResult:
        """Ask one ticket to move to the migration's version; its report line is written."""
        if input.migration_id not in self._plans:
            self._plans[input.migration_id] = await asyncio.to_thread(
                self.migrations.plan, input.migration_id
            )
        plan = self._plans[input.migration_id]
        if plan is None:  # migrations are never deleted; a wrong id must not loop
            raise ApplicationError(
                f"There is no migration {input.migration_id}.", non_retryable=True
            )
        status, to_state, message = await self._update(input.number, plan)
        await asyncio.to_thread(self.migrations.record, input.item_id, status, to_state, message)
        return MigrateTicketResult(status, message)

    async def _update(self, number: str, plan: Plan) -> tuple[str, str | None, str]:
        request = plan.request
        handle = self.client.get_workflow_handle(ticket_workflow_id(number))
        try:
            result: MigrateProcessResult = await handle.execute_update(
                UPDATE_MIGRATE_PROCESS,
                request,
                id=migrate_update_id(request.migration_id),
                result_type=MigrateProcessResult,
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause)
            if isinstance(cause, ApplicationError) and cause.type == "AlreadyMigrated":
                return "migrated", None, message
            return "rejected", None, message
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return "rejected", None, "The ticket was closed meanwhile."
            raise
        return (
            "migrated",
            result.to_state,
            f"v{result.from_version} '{result.from_state}' → "
            f"v{result.to_version} '{result.to_state}'",
        )

    @activity.defn(name=ACT_MIGRATE_TICKETS)
    async def migrate_tickets(self, input: MigrationStartInput) -> MigrationResult:
        """A whole migration in one activity, as runs started before per-ticket activities
        did it (they replay this)."""
        found = await asyncio.to_thread(
            self.migrations.items, MigrationItemsInput(input.migration_id, limit=1_000_000)
        )
        gate = asyncio.Semaphore(LEGACY_CONCURRENCY)

        async def one(item_id: int, number: str) -> None:
            async with gate:
                await self.migrate_ticket(MigrateTicketInput(input.migration_id, item_id, number))
                activity.heartbeat(number)

        await asyncio.gather(*(one(i.item_id, i.number) for i in found.items))
        return await asyncio.to_thread(self.migrations.finish, input)

    @activity.defn(name=ACT_POLL_MAILBOX)
    def poll_mailbox(self, input: MailboxPollInput) -> MailboxPollResult:
        """A poll that delivers and flags by itself, as mailbox runs started before the
        workflow delivered its routes did it (they replay this). A thread-pool activity, like
        the fetch it wraps; deliveries run on the worker's loop, through its client."""
        result = self.mail.fetch_mail(input)
        temporal = AsyncFacade(self.client)
        for route in result.routes:
            documented = route.documented(result.processes)
            delivery = deliver(temporal, documented, self.mail.inbound.restart)
            asyncio.run_coroutine_threadsafe(delivery, self.loop).result()
        if result.uids or result.last_uid:
            ack = MailboxAckInput(input.mailbox, result.uidvalidity, result.uids, result.last_uid)
            self.mail.ack_mail(ack)
        result.routes = []
        return result
