"""The languages Tempodesk speaks, which of them a helpdesk has enabled, and the fallback
chain every choice of language follows (pure; no I/O).

``LANGUAGES`` are the codes Tempodesk has texts for (UI catalogs, bundled templates, the
shipped processes). A helpdesk enables some of them with ``TEMPODESK_LANGUAGES`` (the first
is its default language); pages offer only those. A text is looked for in the wanted
language, then the helpdesk's default, then English, then whatever exists (``chain``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

LANGUAGES = ("en", "cs", "de", "uk", "lt", "el", "ru")
DEFAULT = "en"
DEFAULT_ENABLED = ",".join(LANGUAGES)

T = TypeVar("T")


def parse_enabled(text: str) -> tuple[str, ...]:
    """The enabled languages from ``TEMPODESK_LANGUAGES`` ("en,cs,de"), in their order, each
    once; ValueError names an unknown code. Nothing given means English only."""
    codes: list[str] = []
    for part in text.split(","):
        code = part.strip().lower()
        if not code or code in codes:
            continue
        if code not in LANGUAGES:
            raise ValueError(f"Unknown language '{code}': use some of {', '.join(LANGUAGES)}.")
        codes.append(code)
    return tuple(codes) or (DEFAULT,)


def chain(wanted: str | None, default: str = DEFAULT) -> tuple[str, ...]:
    """Where to look for a text, best first: the wanted language, the helpdesk's default,
    English (each once)."""
    found: list[str] = []
    for code in (wanted, default, DEFAULT):
        if code and code not in found:
            found.append(code)
    return tuple(found)


def pick(texts: Mapping[str, T], wanted: str | None, default: str = DEFAULT) -> T | None:
    """The text of ``texts`` (language -> text) along the fallback chain, else the first
    one; None when there is none."""
    for code in chain(wanted, default):
        if texts.get(code):
            return texts[code]
    return next((text for text in texts.values() if text), None)


def offered(enabled: Iterable[str], current: str = "") -> list[str]:
    """The languages a choice offers: the enabled ones, plus the current value when it is a
    language no longer enabled (so a saved choice is not silently changed)."""
    codes = list(enabled)
    if current and current in LANGUAGES and current not in codes:
        codes.append(current)
    return codes
