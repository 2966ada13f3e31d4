"""Web forms an admin configures per site: each is a channel (its process, group and owner
take part in intake and assignment like any channel's) with its own fields, language,
confirmation, embedding origins, attachment limits and spam rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .channels import Channel


class WebForm(Base):
    """One form at ``/support/<slug>``; ``fields`` is its list of custom field specs
    (``tempodesk.tickets.form_fields.FieldSpec`` as dicts, in order)."""

    __tablename__ = "web_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(48), unique=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    intro: Mapped[str] = mapped_column(String(2000), default="")
    language: Mapped[str] = mapped_column(String(8), default="")  # "": the visitor's
    confirmation: Mapped[str] = mapped_column(String(2000), default="")
    embed_origins: Mapped[str] = mapped_column(String(2000), default="")  # one per line
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    ask_order: Mapped[bool] = mapped_column(Boolean, default=True)
    max_attachment_bytes: Mapped[int] = mapped_column(Integer, default=0)  # 0: no files
    attachment_types: Mapped[str] = mapped_column(String(500), default="")  # "pdf, png"
    max_links: Mapped[int] = mapped_column(Integer, default=3)
    blocked_words: Mapped[str] = mapped_column(String(4000), default="")  # one per line
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    channel: Mapped[Channel] = relationship()
