"""Texts of a definition in several languages: a label (``label``, ``customer_label``,
``description``, ``confirm``, a field's label or a choice's) is either one string or a
mapping of language -> text (``{en: New, de: Neu}``).

A spec keeps both: the string it is known by (``label``: the English text, else the first
given), which the workflow, the projection and the history use as before, and the mapping
(``labels``; empty for one string), which the desk and the portal read in the viewer's
language. Pure: the order of languages to try is the caller's (the web's fallback chain).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: language -> text, in the order the definition gives them; empty when it gave one string.
Texts = tuple[tuple[str, str], ...]

LANGUAGE = re.compile(r"^[a-z]{2}$")
ENGLISH = "en"


def primary(texts: Texts) -> str:
    """The string a multi-language text is known by: its English text, else the first."""
    found = dict(texts)
    return found.get(ENGLISH) or next((text for _, text in texts if text), "")


def in_language(text: str, texts: Texts, order: Sequence[str]) -> str:
    """The text in the first language of ``order`` it has (else its own string)."""
    found = dict(texts)
    for language in order:
        if found.get(language):
            return found[language]
    return text


def document(text: str, texts: Texts) -> str | dict[str, str]:
    """How the definition document writes it: the mapping when there is one."""
    return dict(texts) if texts else text


def read(value: Any) -> tuple[str, Texts] | str:
    """(string, texts) of a document's value; a problem's message (str) when it is neither
    text nor a mapping of language codes to texts."""
    if isinstance(value, str):
        return value, ()
    if not isinstance(value, Mapping) or not value:
        return "This must be text, or a mapping of language codes to texts."
    pairs: list[tuple[str, str]] = []
    for language, text in value.items():
        if not isinstance(language, str) or not LANGUAGE.match(language):
            return f"'{language}' is not a language code (like en, cs, de)."
        if not isinstance(text, str) or not text.strip():
            return f"The text in '{language}' must be non-empty text."
        pairs.append((language, text))
    texts = tuple(pairs)
    return primary(texts), texts


def missing(texts: Texts, languages: Iterable[str]) -> list[str]:
    """The languages of ``languages`` a mapping has no text in (none for one string, which
    the catalog or nobody translates)."""
    if not texts:
        return []
    have = dict(texts)
    return [language for language in languages if language not in have]
