"""SQLAlchemy models: the projection of tickets plus the reference data around them.

Tickets, their events and the metadata of their messages are written only by the
workflow's projection activity (see activities/tickets.py). The web process writes
reference data (users, tokens), and *claim checks*: a message body stored before the
workflow is asked to attach it, so bodies never travel through workflow history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class User(Base):
    """An agent or admin who signs in to the desk."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    groups: Mapped[list[Group]] = relationship(
        secondary="memberships", back_populates="members", order_by="Group.name"
    )

    # What Flask-Login expects of a user (is_active is the column above).
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def label(self) -> str:
        return self.display_name or self.username


class Group(Base):
    """A team of agents (e.g. "Support", "Billing"): a queue to assign to and a unit of rights."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    # Who gets the "supervisor" copies of templates sent about this group's tickets.
    supervisor: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="SET NULL"), default=None
    )

    members: Mapped[list[User]] = relationship(
        secondary="memberships", back_populates="groups", order_by="User.username"
    )


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(Base):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated rights: "api" (the ticket API as its user), "inbound" (post raw mail).
    scopes: Mapped[str] = mapped_column(String(100), default="api", server_default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    account_owner: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="SET NULL"), default=None
    )


class Contact(Base):
    """A customer. Email addresses are stored lower-cased; phones as digits with a leading +."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True, default=None)
    phone: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), default=None
    )
    account_owner: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="SET NULL"), default=None
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    # A permanent delivery failure (RFC 3464 bounce) to this address.
    bounced_at: Mapped[datetime | None] = mapped_column(default=None)
    bounce_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()


class Order(Base):
    """An order from the shop (which lives elsewhere), imported so tickets can link to it."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True, default=None
    )
    placed_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(40), default="")
    total: Mapped[str] = mapped_column(String(40), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    contact: Mapped[Contact | None] = relationship()


class Channel(Base):
    """Where requests come in: the web form, the API, the phone, a walk-in desk, a mailbox.

    Its owner and group take part in assignment (account owner, then channel owner,
    then the helpdesk default); its process is the one new tickets from it start with.
    """

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(254), default="")
    owner: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="SET NULL"), default=None
    )
    group_name: Mapped[str | None] = mapped_column(
        ForeignKey("groups.name", ondelete="SET NULL"), default=None
    )
    process_name: Mapped[str | None] = mapped_column(String(64), default=None)


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


class TicketCounter(Base):
    """Ticket number sequences, one per scope (the template rendered without the sequence)."""

    __tablename__ = "ticket_counters"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    """The projection of one ticket workflow; ``event_seq`` orders every write."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_state_category_id", "state_category", "id"),
        Index("ix_tickets_assignee_id", "assignee", "id"),
        Index("ix_tickets_group_name_id", "group_name", "id"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
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
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Subject, customer, order number and every message, for full-text search (projection).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact | None] = relationship()
    order: Mapped[Order | None] = relationship()


class Message(Base):
    """A ticket's message: the customer's request, a reply, an internal note.

    The body is written first (a claim check, by intake or by the web before an Update);
    the projection attaches it to the ticket's timeline and fills in what it is.
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
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


class ProcessDraft(Base):
    """The definition an admin is editing (YAML, valid or not); publishing makes a version."""

    __tablename__ = "process_drafts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class MessageTemplate(Base):
    """An email or SMS template that process actions send; texts per language."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(8), default="email")  # email | sms
    description: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    texts: Mapped[list[TemplateText]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="TemplateText.language"
    )

    def text(self, language: str, fallback: str = "en") -> TemplateText | None:
        by_language = {t.language: t for t in self.texts}
        return (
            by_language.get(language) or by_language.get(fallback) or next(iter(self.texts), None)
        )


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


class Follow(Base):
    """An agent following a ticket (gets the "followers" copies of templates)."""

    __tablename__ = "follows"

    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class Mailbox(Base):
    """How Tempodesk reads (IMAP) and answers (SMTP) an email channel; secrets are encrypted."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), unique=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    imap_host: Mapped[str] = mapped_column(String(255), default="")
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    imap_security: Mapped[str] = mapped_column(String(10), default="tls")  # tls|starttls|none
    imap_username: Mapped[str] = mapped_column(String(255), default="")
    imap_secret: Mapped[str] = mapped_column(Text, default="")  # encrypted
    imap_verify: Mapped[bool] = mapped_column(Boolean, default=True)
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    processed_folder: Mapped[str] = mapped_column(String(255), default="")  # empty: flag only
    poll_seconds: Mapped[int] = mapped_column(Integer, default=60)
    import_existing: Mapped[bool] = mapped_column(Boolean, default=False)
    smtp_host: Mapped[str] = mapped_column(String(255), default="")  # empty: the global one
    smtp_port: Mapped[int] = mapped_column(Integer, default=587)
    smtp_security: Mapped[str] = mapped_column(String(10), default="starttls")
    smtp_username: Mapped[str] = mapped_column(String(255), default="")
    smtp_secret: Mapped[str] = mapped_column(Text, default="")  # encrypted
    from_name: Mapped[str] = mapped_column(String(200), default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    acknowledge: Mapped[bool] = mapped_column(Boolean, default=True)
    create_contacts: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_policy: Mapped[str] = mapped_column(String(16), default="reopen_within")
    reopen_days: Mapped[int] = mapped_column(Integer, default=14)
    order_pattern: Mapped[str] = mapped_column(String(200), default=r"\b(ORD-\d{3,})\b")
    max_message_mb: Mapped[int] = mapped_column(Integer, default=25)
    blocklist: Mapped[str] = mapped_column(Text, default="")  # one address or @domain per line
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_poll_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")

    channel: Mapped[Channel] = relationship()


class InboundMessage(Base):
    """Every mail that reached us, raw bytes first; its dedupe key is unique per mailbox.

    Nothing inbound is acknowledged (IMAP flag, HTTP 2xx) before its row exists and its
    outcome (ticket, follow-up, ignored, quarantined) is recorded.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("mailbox", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(100))  # "mid:<sha256>" or "raw:<sha256>"
    source: Mapped[str] = mapped_column(String(16), default="imap")  # imap | api | import
    rfc_message_id: Mapped[str] = mapped_column(String(1000), default="")
    sender: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    imap_uid: Mapped[int | None] = mapped_column(BigInteger, default=None)
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # stored -> ticket | follow_up | ignored | quarantined
    status: Mapped[str] = mapped_column(String(16), default="stored", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    ticket_number: Mapped[str | None] = mapped_column(String(64), default=None)
    message_id: Mapped[int | None] = mapped_column(Integer, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)


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


class AutoMailLog(Base):
    """Automatic mail we sent, to cap it per recipient (RFC 3834; mail loops die by themselves)."""

    __tablename__ = "auto_mail_log"
    __table_args__ = (Index("ix_auto_mail_log_recipient_sent_at", "recipient", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    ticket_number: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32), default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class PendingStart(Base):
    """A ticket whose workflow is not confirmed started yet: written with the reservation,
    deleted once Temporal confirms. The worker starts what is left (Temporal was down, the
    web process died), so an accepted request always becomes a ticket."""

    __tablename__ = "pending_starts"

    ticket_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)  # the TicketStartInput, as Temporal's JSON
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
