"""What the knowledge base's modules share: slugs, the invalid-input error, checks of a
title, a slug and a language."""

from __future__ import annotations

import re
from typing import Any

from tempodesk.core import limits
from tempodesk.core.search import fold
from tempodesk.knowledge import LANGUAGES

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class KbInvalid(ValueError):
    """Input that cannot be saved; ``errors`` maps a form field to a readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def slugify(text: str) -> str:
    """A URL word from a title: "Jak vrátit zboží?" → "jak-vratit-zbozi"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:80].strip("-")


def one_line(text: str) -> str:
    return " ".join(text.split())


def check_common(
    errors: dict[str, str],
    *,
    title: str,
    slug: str,
    language: str,
    title_column: Any,
    slug_column: Any,
) -> None:
    """A title (required, one line, fits), a slug (lower-case words and hyphens, fits) and a
    language (one of ours) — problems added to ``errors``."""
    if not title:
        errors["title"] = "Enter a title."
    elif message := limits.too_long(title, title_column):
        errors["title"] = message
    if not slug:
        errors["slug"] = "Enter a slug (letters, digits and hyphens)."
    elif message := limits.too_long(slug, slug_column):
        errors["slug"] = message
    elif not _SLUG.match(slug):
        errors["slug"] = "Use lower-case letters, digits and hyphens only."
    if language not in LANGUAGES:
        errors["language"] = f"Use one of: {', '.join(LANGUAGES)}."
