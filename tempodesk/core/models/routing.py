"""Routing's reference data: triggers (admin-defined rules tickets run on their events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Trigger(Base):
    """One trigger: on an event of a ticket, when its conditions hold, its actions in order
    (``tempodesk.routing.triggers``; a ticket pins the list when it opens and is told of
    changes)."""

    __tablename__ = "triggers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    on: Mapped[str] = mapped_column(String(32))
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
