"""A pure module's English text in the request's language: matched against the msgids of
``web.i18n.texts`` and the shipped processes (a msgid with ``%(name)s`` placeholders matches
the text with anything in their place), else shown as it is.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask_babel import gettext

from web.i18n.locale import DEFAULT, current_language
from web.i18n.processes import shipped_process_texts
from web.i18n.texts import INBOUND_STATUSES, LABELS, MESSAGES, REJECTIONS

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_FIELD_KEY = re.compile(r"[\w.\[\]]+")


@cache
def _tables() -> tuple[frozenset[str], tuple[tuple[re.Pattern[str], str], ...]]:
    """The plain msgids, and a pattern for each msgid with placeholders (longest first)."""
    plain = frozenset(m for m in [*LABELS, *MESSAGES, *REJECTIONS.values()] if "%(" not in m)
    plain |= shipped_process_texts()
    patterns = []
    for msgid in sorted((m for m in MESSAGES if "%(" in m), key=len, reverse=True):
        pieces = _PLACEHOLDER.split(msgid)
        regex = "".join(
            f"(?P<{piece}>.+?)" if i % 2 else re.escape(piece) for i, piece in enumerate(pieces)
        )
        patterns.append((re.compile(regex, re.DOTALL), msgid))
    return plain, tuple(patterns)


def translate_message(text: Any) -> str:
    """An English text made outside the web layer, in the request's language (as it is if
    it is not one of the listed msgids)."""
    text = "" if text is None else str(text)
    if not text or current_language() == DEFAULT:
        return text
    return _translate(text, parts=True)


def _translate(text: str, *, parts: bool) -> str:
    plain, patterns = _tables()
    if text in plain:
        return gettext(text)
    for pattern, msgid in patterns:
        found = pattern.fullmatch(text)
        if found:
            # What fills a placeholder may be a known text too (a state or action label).
            values = {k: gettext(v) if v in plain else v for k, v in found.groupdict().items()}
            return gettext(msgid, **values)
    if parts and "; " in text:
        # Several field errors in one text ("email: Enter a valid email address.; ..."):
        # each part on its own, the field's name kept.
        return "; ".join(_translate_part(part) for part in text.split("; "))
    return text


def _translate_part(part: str) -> str:
    key, colon, message = part.partition(": ")
    if colon and _FIELD_KEY.fullmatch(key):
        return f"{key}: {_translate(message, parts=False)}"
    return _translate(part, parts=False)


def rejection_text(rejection: Any) -> str:
    """A ``statemachines.Rejection`` in the request's language: the text of its code, with
    its parameters (state and action labels of the shipped processes) translated too."""
    if rejection.text:  # from a worker older than rejection codes: its own English text
        return translate_message(rejection.text)
    params = {key: translate_label(str(value)) for key, value in rejection.params.items()}
    return gettext(REJECTIONS[rejection.code], **params)


def translate_label(text: str) -> str:
    """A label that may be a msgid (the shipped processes' states and actions, built-in
    lists), in the request's language; any other text as it is."""
    plain, _ = _tables()
    return gettext(text) if text in plain else text


def label_of(labels: dict[str, str], key: Any) -> str:
    """The label of an id in one of the tables of ``web.i18n.texts``, in the request's
    language; an id without one as it is."""
    key = "" if key is None else str(key)
    return gettext(labels[key]) if key in labels else key


def labelled(key: str, label: str) -> str:
    """An option's text: the name, with the id the definition uses when they differ."""
    return key if label == key else f"{label} ({key})"


def inbound_status(status: str) -> str:
    return (
        label_of(INBOUND_STATUSES, status)
        if status in INBOUND_STATUSES
        else status.replace("_", " ")
    )


def translated_priorities() -> dict[int, str]:
    from statemachines import PRIORITIES

    return {n: translate_message(label) for n, label in PRIORITIES.items()}
