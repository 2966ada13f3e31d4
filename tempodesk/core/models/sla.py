"""Service levels: business-hours calendars and SLA policies (reference data admins edit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
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
