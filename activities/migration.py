"""The database side of a process migration: which tickets are still to do, each one's report
row, and the end. Sending each ticket its Update is ``activities.dispatch``'s."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from tempodesk.contracts import (
    ACT_FINISH_MIGRATION,
    ACT_MIGRATION_ITEMS,
    Actor,
    MigrateProcessInput,
    MigrationItem,
    MigrationItemsInput,
    MigrationItemsResult,
    MigrationResult,
    MigrationStartInput,
)
from tempodesk.core.db import transaction
from tempodesk.core.models import ProcessMigration, ProcessMigrationItem, User, utcnow
from tempodesk.tickets import processes


@dataclass
class Plan:
    """What every ticket of one migration is asked (the same Update for each)."""

    request: MigrateProcessInput


class MigrationStore:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    @activity.defn(name=ACT_MIGRATION_ITEMS)
    def items(self, input: MigrationItemsInput) -> MigrationItemsResult:
        """Tickets of the migration not done yet, in the order they were planned."""
        with self.sessions() as session:
            rows = session.execute(
                select(ProcessMigrationItem.id, ProcessMigrationItem.ticket_number)
                .where(ProcessMigrationItem.migration_id == input.migration_id)
                .where(ProcessMigrationItem.status == "pending")
                .order_by(ProcessMigrationItem.id)
                .limit(input.limit)
            ).all()
        return MigrationItemsResult([MigrationItem(item_id, number) for item_id, number in rows])

    @activity.defn(name=ACT_FINISH_MIGRATION)
    def finish(self, input: MigrationStartInput) -> MigrationResult:
        with transaction(self.sessions) as session:
            migration = session.get(ProcessMigration, input.migration_id)
            if migration is None:
                return MigrationResult()
            items = list(migration.items)
            migration.status = "done"
            migration.finished_at = utcnow()
            return MigrationResult(
                migrated=sum(i.status == "migrated" for i in items),
                rejected=sum(i.status == "rejected" for i in items),
            )

    def plan(self, migration_id: int) -> Plan | None:
        """The Update of this migration: its target version, state map and its author."""
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
            return Plan(
                MigrateProcessInput(
                    process=pinned,
                    actor=actor,
                    state_map=dict(migration.state_map),
                    migration_id=migration_id,
                )
            )

    def record(self, item_id: int, status: str, to_state: str | None, message: str) -> None:
        """One ticket's line of the migration's report."""
        with transaction(self.sessions) as session:
            session.execute(
                update(ProcessMigrationItem)
                .where(ProcessMigrationItem.id == item_id)
                .values(status=status, to_state=to_state, message=message, updated_at=utcnow())
            )
