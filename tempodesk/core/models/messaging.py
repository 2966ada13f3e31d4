"""What agents and processes send: message templates with their texts and revisions, canned
answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tempodesk.core.languages import pick

from .base import Base, utcnow


class MessageTemplate(Base):
    """An email or SMS template that process actions send; texts per language."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(8), default="email")  # email | sms
    description: Mapped[str] = mapped_column(String(255), default="")
    # Essential mail (acknowledgements, replies, notices about the request) reaches every
    # customer; a non-essential template skips customers who refused such mail.
    essential: Mapped[bool] = mapped_column(default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    texts: Mapped[list[TemplateText]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="TemplateText.language"
    )

    def text(self, language: str, fallback: str = "en") -> TemplateText | None:
        """The text in ``language``, else the helpdesk's default (``fallback``), else English,
        else any (``core.languages.pick``)."""
        return pick({t.language: t for t in self.texts}, language, fallback)


class TemplateText(Base):
    __tablename__ = "template_texts"
    __table_args__ = (UniqueConstraint("template_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_templates.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")

    template: Mapped[MessageTemplate] = relationship(back_populates="texts")


class TemplateRevision(Base):
    """Audit log: every saved version of every template text."""

    __tablename__ = "template_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_name: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedAnswer(Base):
    """A ready answer agents insert with one click; rendered like a template (sandboxed)."""

    __tablename__ = "canned_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    owner: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), default=None
    )  # None: shared with everyone (or the groups below)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class BulkMessage(Base):
    """A non-essential template sent once to every consenting contact of a segment (by the
    ``BulkMessageWorkflow``); its recipients are rows, so each contact gets it once."""

    __tablename__ = "bulk_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(64))
    # The segment: {"organisation": name or None, "language": code or None}.
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class BulkRecipient(Base):
    """One contact of a bulk message: pending, then sent, skipped (consent withdrawn since)
    or failed; (bulk message, contact) is unique, which makes the sending exactly once."""

    __tablename__ = "bulk_recipients"
    __table_args__ = (
        UniqueConstraint("bulk_id", "contact_id"),
        Index("ix_bulk_recipients_waiting", "bulk_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulk_id: Mapped[int] = mapped_column(ForeignKey("bulk_messages.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
