"""The SMS gateway Tempodesk sends through and takes SMS from (one row: the helpdesk's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SmsGateway(Base):
    """Which provider (``twilio`` | ``generic``), where, as whom; the secret is sealed
    (``core.vault``): Twilio's auth token or the generic provider's bearer token."""

    __tablename__ = "sms_gateways"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), default="twilio")
    url: Mapped[str] = mapped_column(String(500), default="")
    account: Mapped[str] = mapped_column(String(64), default="")  # Twilio's Account SID
    secret: Mapped[str] = mapped_column(Text, default="")  # sealed
    sender: Mapped[str] = mapped_column(String(32), default="")  # E.164
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
