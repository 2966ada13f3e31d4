"""Where requests come in: channels, an email channel's mailbox, every mail that reached us,
and the automatic mail we sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


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
    # A new contact's language when the mail names none and the guess is unsure; "": the
    # helpdesk's default.
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    closed_policy: Mapped[str] = mapped_column(String(16), default="reopen_within")
    reopen_days: Mapped[int] = mapped_column(Integer, default=14)
    order_pattern: Mapped[str] = mapped_column(String(200), default=r"\b(ORD-\d{3,})\b")
    max_message_mb: Mapped[int] = mapped_column(Integer, default=25)
    blocklist: Mapped[str] = mapped_column(Text, default="")  # one address or @domain per line
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    # When we first read the folder: mail that arrived before it was left alone unless
    # import_existing, so after a UIDVALIDITY change only mail since then is read again.
    first_contact_at: Mapped[datetime | None] = mapped_column(default=None)
    # After a UIDVALIDITY change: UIDs below this are the renumbered past, re-scanned by
    # arrival (since first contact) and without our processed keyword; 0: no re-scan.
    rescan_below: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
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


class AutoMailLog(Base):
    """Automatic mail we sent, to cap it per recipient (RFC 3834; mail loops die by themselves)."""

    __tablename__ = "auto_mail_log"
    __table_args__ = (Index("ix_auto_mail_log_recipient_sent_at", "recipient", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    ticket_number: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32), default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class AcknowledgementClaim(Base):
    """Who got an acknowledgement lately: one row per address, claimed in one statement
    before the mail goes out, so two new tickets of one customer never both acknowledge."""

    __tablename__ = "acknowledgement_claims"

    recipient: Mapped[str] = mapped_column(String(254), primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmtpAlert(Base):
    """An SMTP server refusing us for a reason no retry of one mail fixes (our login, our
    sender address, the connection refused): mail keeps retrying, ops see this on /healthz
    until a mail goes through that server again."""

    __tablename__ = "smtp_alerts"

    server: Mapped[str] = mapped_column(String(300), primary_key=True)  # host:port
    error: Mapped[str] = mapped_column(String(500))
    since: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
