"""Each agent's own desk data: follows, read marks, saved filters, the left panel, drafts and
presence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Follow(Base):
    """An agent following a ticket (gets the "followers" copies of templates)."""

    __tablename__ = "follows"

    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketRead(Base):
    """How far an agent has read a ticket: unread means newer events than ``seen_seq``."""

    __tablename__ = "ticket_reads"

    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_seq: Mapped[int] = mapped_column(Integer, default=0)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedFilter(Base):
    """A list of tickets an agent defined: criteria on any ticket field, personal or shared."""

    __tablename__ = "saved_filters"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shared_with: Mapped[list[str]] = mapped_column(JSON, default=list)  # group names
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeskLayout(Base):
    """The views an agent keeps in the desk's left panel, in their order."""

    __tablename__ = "desk_layouts"

    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    views: Mapped[list[str]] = mapped_column(JSON, default=list)  # "view:mine", "filter:12"
    mode: Mapped[str] = mapped_column(String(16), default="table")  # table | compact | split
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Draft(Base):
    """What an agent typed into an action's form, kept until sent (survives a reload)."""

    __tablename__ = "drafts"

    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(64), primary_key=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Presence(Base):
    """Who has a ticket open right now (viewing or composing): a notice for the others."""

    __tablename__ = "presence"

    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    activity: Mapped[str] = mapped_column(String(16), default="viewing")
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
