"""Process migration's payloads."""

from __future__ import annotations

from dataclasses import dataclass, field

from tempodesk.contracts.tickets import Actor, PinnedProcess


@dataclass
class MigrateProcessInput:
    """Move a ticket to another published process version (an admin's explicit choice)."""

    process: PinnedProcess
    actor: Actor
    state_map: dict[str, str] = field(default_factory=dict)
    migration_id: int = 0


@dataclass
class MigrateProcessResult:
    from_version: int
    to_version: int
    from_state: str
    to_state: str
    seq: int


@dataclass
class MigrationStartInput:
    migration_id: int


@dataclass
class MigrationResult:
    migrated: int = 0
    rejected: int = 0


@dataclass
class MigrationItemsInput:
    migration_id: int
    limit: int = 500


@dataclass
class MigrationItem:
    item_id: int
    number: str


@dataclass
class MigrationItemsResult:
    items: list[MigrationItem] = field(default_factory=list)


@dataclass
class MigrateTicketInput:
    migration_id: int
    item_id: int
    number: str


@dataclass
class MigrateTicketResult:
    status: str  # migrated | rejected
    message: str = ""
