"""The knowledge base: categories, articles (public or internal, per language), the help
centre's settings and information pages, and which articles tickets are linked to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class KbCategory(Base):
    """A group of articles in one language, shown on the help centre's home in ``position``
    order."""

    __tablename__ = "kb_categories"
    __table_args__ = (UniqueConstraint("language", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    position: Mapped[int] = mapped_column(Integer, default=0)


class KbArticle(Base):
    """An article: sanitised HTML, public (the help centre) or internal (agents only)."""

    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("language", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="SET NULL"), index=True, default=None
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(64), default="")
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, default=0)
    # Title and the body's text, for full-text search (core.search; migration 0016).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    category: Mapped[KbCategory | None] = relationship()


class KbArticleLink(Base):
    """An article linked to a ticket (an agent's reference, like a mark: not the ticket's
    state)."""

    __tablename__ = "kb_article_links"
    __table_args__ = (UniqueConstraint("ticket_number", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(64), index=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    linked_by: Mapped[str] = mapped_column(String(64), default="")
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[KbArticle] = relationship()


class KbPage(Base):
    """An information page of the help centre (``/help/pages/<slug>``), linked from its
    footer."""

    __tablename__ = "kb_pages"
    __table_args__ = (UniqueConstraint("language", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    language: Mapped[str] = mapped_column(String(8), default="en")
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbSettings(Base):
    """The help centre's look (one row, id 1): title, logo (a raster image), colours."""

    __tablename__ = "kb_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="Help centre")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    logo_type: Mapped[str] = mapped_column(String(32), default="")
    color_accent: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    color_background: Mapped[str] = mapped_column(String(7), default="#ffffff")
    color_text: Mapped[str] = mapped_column(String(7), default="#1f2328")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
