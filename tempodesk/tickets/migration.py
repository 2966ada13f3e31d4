"""Moving open tickets to a newer process version: plan (which tickets, which state map),
then a ProcessMigrationWorkflow performs one validated Update per ticket and reports each."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from statemachines import MigrationRefused, migration_target, target_problem
from tempodesk.core.models import ProcessMigration, ProcessMigrationItem, Ticket
from tempodesk.tickets import processes

OPEN_CATEGORIES = ("new", "open", "pending", "resolved")


class MigrationInvalid(ValueError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


def candidates(session: Session, name: str, to_version: int) -> list[Ticket]:
    """Open tickets of the process on any other version."""
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.process_name == name)
            .where(Ticket.process_version != to_version)
            .where(Ticket.state_category.in_(OPEN_CATEGORIES))
            .order_by(Ticket.id)
        )
    )


def states_to_map(session: Session, name: str, to_version: int) -> dict[str, list[str]]:
    """For the editor: the states open tickets are in that need a decision (the version has
    no such state, or it is final: ``statemachines.migration_target``'s rule)."""
    target = processes.definition(session, name, to_version)
    needed: dict[str, list[str]] = {}
    for ticket in candidates(session, name, to_version):
        try:
            migration_target(target, ticket.state, {})
        except MigrationRefused:
            needed.setdefault(ticket.state, []).append(ticket.number)
    return needed


def plan(
    session: Session, name: str, to_version: int, state_map: dict[str, str], author: str
) -> ProcessMigration:
    """Record a migration and its tickets; refuse a map that names unknown states."""
    target = processes.definition(session, name, to_version)
    errors = []
    for old, new in sorted(state_map.items()):
        problem = target_problem(target, new)
        if problem == "unknown":
            errors.append(
                f"'{old}' is mapped to '{new}', which version {to_version} does not have."
            )
        elif problem == "final":
            errors.append(f"'{old}' is mapped to the final state '{new}'.")
    tickets = candidates(session, name, to_version)
    if not tickets:
        errors.append(f"No open ticket of '{name}' is on another version than {to_version}.")
    if errors:
        raise MigrationInvalid(errors)
    migration = ProcessMigration(
        process_name=name, to_version=to_version, state_map=dict(state_map), created_by=author
    )
    session.add(migration)
    session.flush()
    for ticket in tickets:
        session.add(
            ProcessMigrationItem(
                migration_id=migration.id,
                ticket_number=ticket.number,
                from_version=ticket.process_version,
                from_state=ticket.state,
            )
        )
    session.flush()
    return migration


def report(session: Session, migration_id: int) -> ProcessMigration | None:
    return session.scalar(
        select(ProcessMigration)
        .where(ProcessMigration.id == migration_id)
        .options(selectinload(ProcessMigration.items))
    )
