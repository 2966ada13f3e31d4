"""Tickets in relation to each other and to words: tags (the projection's ``ticket_tags``,
the admins' curated list and its one-row policy) and links between tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class TicketTag(Base):
    """A tag on a ticket: written only by the ticket workflow's projection."""

    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_number"),)

    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)


class TicketLink(Base):
    """``ticket_number`` sees ``other_number`` as its ``kind`` (related, duplicate_of,
    duplicated_by, parent, child); both directions are rows, written by the projection of
    the ticket whose workflow was asked."""

    __tablename__ = "ticket_links"

    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    other_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    wait: Mapped[bool] = mapped_column(Boolean, default=False)  # a parent waits for its child
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CuratedTag(Base):
    """A tag the admins offer (and, with ``TagPolicy.only_curated``, the only ones allowed)."""

    __tablename__ = "curated_tags"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class TagPolicy(Base):
    """How tags may be given (one row, id 1)."""

    __tablename__ = "tag_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    only_curated: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
