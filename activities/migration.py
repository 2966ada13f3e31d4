"""The per-ticket part of a process migration: one validated Update per ticket, reported."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from tempodesk.contracts import (
    ACT_MIGRATE_TICKETS,
    UPDATE_MIGRATE_PROCESS,
    Actor,
    MigrateProcessInput,
    MigrateProcessResult,
    MigrationResult,
    MigrationStartInput,
)
from tempodesk.core.db import transaction
from tempodesk.core.ids import migrate_update_id, ticket_workflow_id
from tempodesk.core.models import ProcessMigration, ProcessMigrationItem, User, utcnow
from tempodesk.tickets import processes

CONCURRENCY = 4


class MigrationActivities:
    def __init__(self, client: Client, sessions: sessionmaker[Session]):
        self.client = client
        self.sessions = sessions

    @activity.defn(name=ACT_MIGRATE_TICKETS)
    async def migrate_tickets(self, input: MigrationStartInput) -> MigrationResult:
        """Migrate every pending ticket of a migration; resumable."""
        spec = await asyncio.to_thread(self._load, input.migration_id)
        if spec is None:
            return MigrationResult()
        request, pending = spec
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(item_id: int, number: str) -> None:
            async with gate:
                status, to_state, message = await self._migrate(number, request, input.migration_id)
                await asyncio.to_thread(self._record, item_id, status, to_state, message)
                activity.heartbeat(number)

        await asyncio.gather(*(one(item_id, number) for item_id, number in pending))
        return await asyncio.to_thread(self._finish, input.migration_id)

    def _load(self, migration_id: int) -> tuple[MigrateProcessInput, list[tuple[int, str]]] | None:
        with self.sessions() as session:
            migration = session.get(ProcessMigration, migration_id)
            if migration is None:
                return None
            author = session.scalar(select(User).where(User.username == migration.created_by))
            actor = Actor(
                username=migration.created_by,
                groups=[g.name for g in author.groups] if author else [],
                is_admin=bool(author and author.is_admin),
            )
            pinned = processes.pin_version(session, migration.process_name, migration.to_version)
            pending = [
                (item.id, item.ticket_number)
                for item in session.scalars(
                    select(ProcessMigrationItem)
                    .where(ProcessMigrationItem.migration_id == migration_id)
                    .where(ProcessMigrationItem.status == "pending")
                    .order_by(ProcessMigrationItem.id)
                )
            ]
            request = MigrateProcessInput(
                process=pinned,
                actor=actor,
                state_map=dict(migration.state_map),
                migration_id=migration_id,
            )
            return request, pending

    async def _migrate(
        self, number: str, request: MigrateProcessInput, migration_id: int
    ) -> tuple[str, str | None, str]:
        handle = self.client.get_workflow_handle(ticket_workflow_id(number))
        try:
            result: MigrateProcessResult = await handle.execute_update(
                UPDATE_MIGRATE_PROCESS,
                request,
                id=migrate_update_id(migration_id),
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

    def _record(self, item_id: int, status: str, to_state: str | None, message: str) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                update(ProcessMigrationItem)
                .where(ProcessMigrationItem.id == item_id)
                .values(status=status, to_state=to_state, message=message, updated_at=utcnow())
            )

    def _finish(self, migration_id: int) -> MigrationResult:
        with transaction(self.sessions) as session:
            migration = session.get(ProcessMigration, migration_id)
            assert migration is not None
            items = list(migration.items)
            migration.status = "done"
            migration.finished_at = utcnow()
            return MigrationResult(
                migrated=sum(i.status == "migrated" for i in items),
                rejected=sum(i.status == "rejected" for i in items),
            )
