"""Processes: published versions of a definition, the admin's draft, and migrations of open
tickets to a newer version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class ProcessVersion(Base):
    """One immutable, published version of a process definition."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class ProcessDraft(Base):
    """The definition an admin is editing (YAML, valid or not); publishing makes a version."""

    __tablename__ = "process_drafts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class ProcessMigration(Base):
    """An admin's request to move open tickets to a newer process version."""

    __tablename__ = "process_migrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_name: Mapped[str] = mapped_column(String(64))
    to_version: Mapped[int] = mapped_column(Integer)
    state_map: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    items: Mapped[list[ProcessMigrationItem]] = relationship(
        back_populates="migration", order_by="ProcessMigrationItem.id"
    )


class ProcessMigrationItem(Base):
    """One ticket of a migration and what happened to it."""

    __tablename__ = "process_migration_items"
    __table_args__ = (UniqueConstraint("migration_id", "ticket_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    migration_id: Mapped[int] = mapped_column(
        ForeignKey("process_migrations.id", ondelete="CASCADE"), index=True
    )
    ticket_number: Mapped[str] = mapped_column(String(64))
    from_version: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|migrated|rejected
    message: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    migration: Mapped[ProcessMigration] = relationship(back_populates="items")
