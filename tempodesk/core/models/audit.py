"""The audit log: who changed what and when (admin changes, sign-ins, tokens, GDPR)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class AuditEntry(Base):
    """One audited change, written in the same transaction as the change it describes
    (``tempodesk.core.audit.record``). Never updated, never deleted by the application."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254), default="", index=True)
    # agent (a signed-in user or a token), customer (the portal), cli, system
    actor_kind: Mapped[str] = mapped_column(String(16), default="agent")
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "user.update"
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(255), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    address: Mapped[str] = mapped_column(String(64), default="")  # the client's IP, if any
