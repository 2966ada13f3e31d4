"""The help centre's frame: categories, information pages (``/help/pages/<slug>``) and its
look (title, logo, colours), all set by admins."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core import limits
from tempodesk.core.models import KbArticle, KbCategory, KbPage, KbSettings, utcnow
from tempodesk.knowledge import LANGUAGES, bodies
from tempodesk.knowledge.common import KbInvalid, check_common, one_line, slugify

COLOR = re.compile(r"^#[0-9a-f]{6}$")
MAX_LOGO_BYTES = 256 * 1024
#: Raster images only (never SVG, which may carry script), recognised by their first bytes.
LOGO_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


# ------------------------------------------------------------------------------ categories


@dataclass
class CategoryData:
    name: str = ""
    slug: str = ""
    description: str = ""
    language: str = "en"
    position: int = 0


def categories(session: Session, language: str | None = None) -> list[KbCategory]:
    """The categories (of one language), in their order."""
    stmt = select(KbCategory).order_by(KbCategory.language, KbCategory.position, KbCategory.name)
    if language:
        stmt = stmt.where(KbCategory.language == language)
    return list(session.scalars(stmt))


def find_category(session: Session, language: str, slug: str) -> KbCategory | None:
    return session.scalar(
        select(KbCategory).where(KbCategory.language == language).where(KbCategory.slug == slug)
    )


def save_category(
    session: Session, data: CategoryData, category: KbCategory | None = None
) -> KbCategory:
    """Create (or update) a category after checking it; KbInvalid if bad."""
    errors: dict[str, str] = {}
    name = one_line(data.name)
    slug = data.slug.strip().lower() or slugify(name)
    check_common(
        errors,
        title=name,
        slug=slug,
        language=data.language,
        title_column=KbCategory.name,
        slug_column=KbCategory.slug,
    )
    if "title" in errors:
        errors["name"] = errors.pop("title").replace("a title", "a name")
    description = one_line(data.description)
    if message := limits.too_long(description, KbCategory.description):
        errors["description"] = message
    if "slug" not in errors and session.scalar(
        select(KbCategory.id)
        .where(KbCategory.language == data.language)
        .where(KbCategory.slug == slug)
        .where(KbCategory.id != (category.id if category else -1))
    ):
        errors["slug"] = "Another category in this language has this slug."
    if errors:
        raise KbInvalid(errors)
    if category is None:
        category = KbCategory(name=name, slug=slug)
        session.add(category)
    category.name, category.slug, category.description = name, slug, description
    category.language, category.position = data.language, data.position
    session.flush()
    return category


def delete_category(session: Session, category: KbCategory) -> None:
    """Delete a category; its articles stay, without one."""
    for article in session.scalars(select(KbArticle).where(KbArticle.category_id == category.id)):
        article.category_id = None
    session.delete(category)
    session.flush()


# ------------------------------------------------------------------------- information pages


@dataclass
class PageData:
    title: str = ""
    slug: str = ""
    body: str = ""
    language: str = "en"
    position: int = 0


def pages(session: Session, language: str | None = None) -> list[KbPage]:
    stmt = select(KbPage).order_by(KbPage.language, KbPage.position, KbPage.title)
    if language:
        stmt = stmt.where(KbPage.language == language)
    return list(session.scalars(stmt))


def find_page(session: Session, language: str, slug: str) -> KbPage | None:
    return session.scalar(
        select(KbPage).where(KbPage.language == language).where(KbPage.slug == slug)
    )


def save_page(session: Session, data: PageData, page: KbPage | None = None) -> KbPage:
    """Create (or update) an information page; its body sanitised like an article's."""
    errors: dict[str, str] = {}
    title = one_line(data.title)
    slug = data.slug.strip().lower() or slugify(title)
    check_common(
        errors,
        title=title,
        slug=slug,
        language=data.language,
        title_column=KbPage.title,
        slug_column=KbPage.slug,
    )
    body = ""
    try:
        body = bodies.sanitize(data.body)
    except bodies.BodyRefused as exc:
        errors["body"] = str(exc)
    if "slug" not in errors and session.scalar(
        select(KbPage.id)
        .where(KbPage.language == data.language)
        .where(KbPage.slug == slug)
        .where(KbPage.id != (page.id if page else -1))
    ):
        errors["slug"] = "Another page in this language has this slug."
    if errors:
        raise KbInvalid(errors)
    if page is None:
        page = KbPage(title=title, slug=slug)
        session.add(page)
    page.title, page.slug, page.body = title, slug, body
    page.language, page.position = data.language, data.position
    page.updated_at = utcnow()
    session.flush()
    return page


# ------------------------------------------------------------------------------- the look


@dataclass
class LookData:
    title: str = ""
    color_accent: str = "#1f6feb"
    color_background: str = "#ffffff"
    color_text: str = "#1f2328"
    logo: bytes | None = None  # a new logo (None: keep the one there is)
    remove_logo: bool = False


def look(session: Session) -> KbSettings:
    """The help centre's settings (defaults until an admin saves them; not stored by reading)."""
    return session.get(KbSettings, 1) or KbSettings(
        id=1,
        title="Help centre",
        logo=None,
        logo_type="",
        color_accent="#1f6feb",
        color_background="#ffffff",
        color_text="#1f2328",
    )


def logo_type(data: bytes) -> str | None:
    """The image type of a logo by its first bytes (PNG, JPEG, GIF), else None."""
    return next((kind for magic, kind in LOGO_TYPES.items() if data.startswith(magic)), None)


def save_look(session: Session, data: LookData, *, author: str) -> KbSettings:
    """Check and store the help centre's look; KbInvalid if bad."""
    errors: dict[str, str] = {}
    title = one_line(data.title)
    if not title:
        errors["title"] = "Enter a title."
    elif message := limits.too_long(title, KbSettings.title):
        errors["title"] = message
    colours = {
        "color_accent": data.color_accent.strip().lower(),
        "color_background": data.color_background.strip().lower(),
        "color_text": data.color_text.strip().lower(),
    }
    for key, value in colours.items():
        if not COLOR.match(value):
            errors[key] = "Use a colour like #1f6feb."
    kind = None
    if data.logo is not None:
        kind = logo_type(data.logo)
        if len(data.logo) > MAX_LOGO_BYTES:
            errors["logo"] = f"At most {MAX_LOGO_BYTES // 1024} KB."
        elif kind is None:
            errors["logo"] = "Use a PNG, JPEG or GIF image."
    if errors:
        raise KbInvalid(errors)
    settings = session.get(KbSettings, 1)
    if settings is None:
        settings = look(session)
        session.add(settings)
    settings.title = title
    settings.color_accent = colours["color_accent"]
    settings.color_background = colours["color_background"]
    settings.color_text = colours["color_text"]
    if data.remove_logo:
        settings.logo, settings.logo_type = None, ""
    if data.logo is not None and kind is not None:
        settings.logo, settings.logo_type = data.logo, kind
    settings.updated_at, settings.updated_by = utcnow(), author
    session.flush()
    return settings


def stylesheet(settings: KbSettings) -> str:
    """The help centre's colours as CSS custom properties (served as a stylesheet, so the
    Content-Security-Policy keeps ``style-src 'self'``). Only ``#rrggbb`` values are ever
    stored; anything else falls back to the default."""

    def colour(value: str, default: str) -> str:
        return value if COLOR.match(value or "") else default

    return (
        ":root {\n"
        f"  --help-accent: {colour(settings.color_accent, '#1f6feb')};\n"
        f"  --help-background: {colour(settings.color_background, '#ffffff')};\n"
        f"  --help-text: {colour(settings.color_text, '#1f2328')};\n"
        "}\n"
    )


def language_or_default(language: str) -> str:
    return language if language in LANGUAGES else LANGUAGES[0]
