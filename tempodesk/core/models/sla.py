"""Service levels: business-hours calendars and SLA policies (reference data admins edit),
customer types, contracts and their entitlements (and what tickets used of them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class BusinessCalendar(Base):
    """Working hours per weekday, a time zone and holidays: ``statemachines.calendar``'s
    ``Calendar.to_dict`` document."""

    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class SlaPolicy(Base):
    """Targets in business time of a calendar, for the tickets its conditions match; the
    first active policy by ``position`` wins."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # {"priority": [3, 4], "channel": ["email"], "process": [...], "organisation": [ids],
    #  "group": [...], "field": {"name": "value"}}: every condition given must match.
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="RESTRICT"))
    first_response: Mapped[str | None] = mapped_column(String(16), default=None)
    next_response: Mapped[str | None] = mapped_column(String(16), default=None)
    resolution: Mapped[str | None] = mapped_column(String(16), default=None)
    warn_percent: Mapped[int] = mapped_column(Integer, default=80)
    on_warning: Mapped[list[Any]] = mapped_column(JSON, default=list)
    on_breach: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class CustomerType(Base):
    """A kind of customer admins curate ("standard", "premium"): policies may ask for it."""

    __tablename__ = "customer_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")


class Contract(Base):
    """A customer's contract (a contact's or an organisation's): valid between two days
    (inclusive; no end: open-ended), with an SLA policy that wins over the policies'
    conditions while it is valid, and entitlements. ``reference`` is the outside system's
    key the API upserts by."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True, default=None
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True, default=None
    )
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class Entitlement(Base):
    """What a contract allows: ``allocation`` cases or hours (``unit``), optionally only on
    some channels, between two days; counted when a ticket opens or when it resolves
    (``counts_on``); exhausted, it warns or blocks (``on_exhausted``)."""

    __tablename__ = "entitlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(8), default="cases")  # cases | hours
    allocation: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every channel
    valid_from: Mapped[date | None] = mapped_column(Date, default=None)
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    counts_on: Mapped[str] = mapped_column(String(8), default="open")  # open | resolve
    on_exhausted: Mapped[str] = mapped_column(String(8), default="warn")  # warn | block


class EntitlementUse(Base):
    """What one ticket used of one entitlement: 1 case, or its minutes of time spent. One row
    per (ticket, entitlement), written with a set, never an add: counting twice (an activity
    retried) changes nothing."""

    __tablename__ = "entitlement_uses"
    __table_args__ = (UniqueConstraint("ticket_number", "entitlement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(64))
    entitlement_id: Mapped[int] = mapped_column(
        ForeignKey("entitlements.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(Integer, default=0)  # cases, or minutes for hours
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
