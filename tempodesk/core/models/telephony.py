"""Communication records: calls (placed by agents, rung in by the PBX), letters and
appointments, on a contact and, when they belong to one, on a ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

RECORD_KINDS = ("call", "letter", "appointment")
OUTCOMES = ("agreed", "not_reached", "no_agreement")


class CommRecord(Base):
    """One call, letter or appointment. A call's ``call_key`` is its idempotency key and the
    PBX's id of it (AMI ``ChannelId``, the cloud PBX's call id): one row per call, ever."""

    __tablename__ = "comm_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="call")
    direction: Mapped[str] = mapped_column(String(8), default="out")  # in | out
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True, default=None
    )
    ticket_number: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    agent: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    extension: Mapped[str] = mapped_column(String(32), default="")
    number: Mapped[str] = mapped_column(String(32), default="")  # the other party, E.164
    call_key: Mapped[str | None] = mapped_column(String(150), unique=True, default=None)
    provider: Mapped[str] = mapped_column(String(16), default="")  # ami | cti | agent
    # dialing, ringing, answered, ended, missed, failed, unknown; "logged" for the rest
    status: Mapped[str] = mapped_column(String(16), default="logged")
    outcome: Mapped[str] = mapped_column(String(16), default="")
    outcome_seq: Mapped[int | None] = mapped_column(default=None)  # the ticket event saying it
    subject: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    converted_ticket: Mapped[str | None] = mapped_column(String(64), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
