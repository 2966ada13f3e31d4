"""Tickets: the projection of each ticket workflow, its messages (claim checks first),
attachments and timeline events, the number counters and the starts not yet confirmed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:  # SQLAlchemy finds these by name among Base's models
    from .people import Contact, Order
    from .relations import TicketLink, TicketTag


class TicketCounter(Base):
    """Ticket number sequences, one per scope (the template rendered without the sequence)."""

    __tablename__ = "ticket_counters"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


#: The ticket's columns the reports filter and break down by (the reports' indexes hold them).
REPORT_BREAKDOWN = ("channel", "process_name", "group_name", "assignee")


class Ticket(Base):
    """The projection of one ticket workflow; ``event_seq`` orders every write."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_state_category_id", "state_category", "id"),
        Index("ix_tickets_assignee_id", "assignee", "id"),
        Index("ix_tickets_group_name_id", "group_name", "id"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        # Reports: tickets created, and resolved, in a period (tempodesk/reports), each
        # index holding what the reports read of those tickets (the breakdown and filter
        # columns, the duration's other end): a year is read from the index, not the rows.
        Index(
            "ix_tickets_created_at",
            "created_at",
            *REPORT_BREAKDOWN,
            "first_response_at",
        ),
        Index("ix_tickets_resolved_at", "resolved_at", *REPORT_BREAKDOWN, "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    workflow_id: Mapped[str] = mapped_column(String(100))
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[str] = mapped_column(String(64))
    state_label: Mapped[str] = mapped_column(String(100), default="")
    state_category: Mapped[str] = mapped_column(String(16))
    process_name: Mapped[str] = mapped_column(String(64))
    process_version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64), default="")
    priority: Mapped[int] = mapped_column(Integer, default=2)
    assignee: Mapped[str | None] = mapped_column(String(64), default=None)
    group_name: Mapped[str | None] = mapped_column(String(64), default=None)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True, default=None
    )
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), default=None
    )
    customer_email: Mapped[str] = mapped_column(String(254), default="")
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    mailbox: Mapped[str | None] = mapped_column(String(64), default=None)
    form: Mapped[str | None] = mapped_column(String(48), default=None)  # the web form's slug
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Subject, customer, order number and every message, for full-text search (projection).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Satisfaction (projection): the event that last asked for a rating and for which agent,
    # and the latest score given (1-5; None: not rated).
    rating_asked_seq: Mapped[int | None] = mapped_column(Integer, default=None)
    rating_agent: Mapped[str | None] = mapped_column(String(64), default=None)
    rating_score: Mapped[int | None] = mapped_column(Integer, default=None)
    rated_at: Mapped[datetime | None] = mapped_column(default=None)
    # The SLA block as the workflow has it (policy and clocks), for lists and the API: the
    # earliest running due moment and whether any target is breached (projection). No
    # Python defaults: rows written by code older than these columns stay writable.
    sla: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sla_due_at: Mapped[datetime | None] = mapped_column(index=True)
    sla_breached: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # When it entered a resolved or closed state (kept through resolved -> closed; cleared
    # when it reopens): the projection keeps it, the reports read it.
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    # When its first public agent message was written (its first response; the projection
    # sets it once, when it attaches that message).
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    # Merged into another ticket (state category "merged"): the pointer its pages answer with.
    merged_into: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # Minutes agents recorded on its actions (each action event's ``time_spent``), summed.
    time_spent: Mapped[int] = mapped_column(Integer, server_default="0")

    contact: Mapped[Contact | None] = relationship()
    order: Mapped[Order | None] = relationship()
    # Its tags (the projection's ticket_tags), loaded with every page of tickets in one query.
    tag_rows: Mapped[list[TicketTag]] = relationship(
        primaryjoin="Ticket.number == foreign(TicketTag.ticket_number)",
        viewonly=True,
        lazy="selectin",
        order_by="TicketTag.tag",
    )

    # Its links (the projection's ticket_links), read when it is restored (snapshot_of).
    link_rows: Mapped[list[TicketLink]] = relationship(
        primaryjoin="Ticket.number == foreign(TicketLink.ticket_number)",
        viewonly=True,
        order_by="TicketLink.other_number",
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class TicketRating(Base):
    """A customer's rating of one answer: one row per ticket and asking event, so a repeated
    signal (or a changed mind) counts once; the agent's figures are read from here."""

    __tablename__ = "ticket_ratings"
    __table_args__ = (
        UniqueConstraint("ticket_number", "asked_seq"),
        Index("ix_ticket_ratings_agent", "agent"),
        Index("ix_ticket_ratings_rated_at", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(64))
    asked_seq: Mapped[int] = mapped_column(Integer)
    agent: Mapped[str] = mapped_column(String(64), default="")
    score: Mapped[int] = mapped_column(Integer)
    comment_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    via: Mapped[str] = mapped_column(String(16), default="")  # email | portal
    event_seq: Mapped[int] = mapped_column(Integer, default=0)  # the "rated" event
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)


# A message's delivery status only moves forward: queued (in the outbox) < sending (handed to
# SMTP or an SMS provider) < unknown (no clear answer) < sent < delivered | failed.
DELIVERY_RANK: dict[str | None, int] = {
    None: 0,
    "queued": 1,
    "sending": 2,
    "unknown": 3,
    "sent": 4,
    "delivered": 5,
    "failed": 5,
}


class Message(Base):
    """A ticket's message: the customer's request, a reply, an internal note.

    The body is written first (a claim check, by intake or by the web before an Update);
    the projection attaches it to the ticket's timeline and fills in what it is.
    """

    __tablename__ = "messages"
    __table_args__ = (
        # The operations page looks for mail still queued (a send activity retrying).
        Index(
            "ix_messages_queued",
            "created_at",
            postgresql_where=text("delivery_status = 'queued'"),
            sqlite_where=text("delivery_status = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    # SHA-256 of the request that used the key: the same key with another request is refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    attached: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default="")
    sender_role: Mapped[str] = mapped_column(String(16), default="")  # customer|agent|system
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivery_status: Mapped[str | None] = mapped_column(String(16), default=None)
    delivery_detail: Mapped[str] = mapped_column(Text, default="")
    # The Message-ID we sent it under, or the one it arrived with (threading looks up both).
    smtp_message_id: Mapped[str | None] = mapped_column(String(255), index=True, default=None)
    recipient: Mapped[str] = mapped_column(String(254), default="")
    html: Mapped[str | None] = mapped_column(Text, default=None)  # sanitised on ingest
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL"), default=None
    )
    auto_reply: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # SMS: the provider's id for it (delivery callbacks name it), how often it was handed to
    # the provider without a clear answer, and whether it may have gone twice (agents see it).
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivery_ambiguous: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class TicketEvent(Base):
    """One entry of a ticket's timeline; (ticket_number, seq) makes its write idempotent."""

    __tablename__ = "ticket_events"
    __table_args__ = (UniqueConstraint("ticket_number", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(64), default=None)
    actor: Mapped[str] = mapped_column(String(254), default="")
    from_state: Mapped[str | None] = mapped_column(String(64), default=None)
    to_state: Mapped[str | None] = mapped_column(String(64), default=None)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message | None] = relationship()


class Attachment(Base):
    """A file that came with a message; served only as a download, never inline."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    content_id: Mapped[str | None] = mapped_column(String(255), default=None)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    message: Mapped[Message] = relationship(back_populates="attachments")


class PendingStart(Base):
    """A ticket whose workflow has not opened it yet: written with the reservation, deleted by
    the ticket's opening step (``open_ticket``). The worker starts what is left (Temporal was
    down, the web process died), so an accepted request always becomes a ticket. The process
    is kept by name and version (its document is in ``process_versions``)."""

    __tablename__ = "pending_starts"

    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)  # the TicketStartInput as Temporal's JSON
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # A start that failed waits until then (backing off per row, so it blocks no other).
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    # Failed ``pending_start_attempts`` times: no longer tried until ops retry it
    # (``tempodesk pending retry``); /healthz counts these.
    dead_at: Mapped[datetime | None] = mapped_column(default=None)
