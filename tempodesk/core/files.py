"""Names and types of files people give us, made safe to store, show and offer for download.

One rule for every way a file comes in: attachments of inbound mail (``tempodesk.mail``
decodes the header first) and files an agent attaches to a reply.
"""

from __future__ import annotations

import re
import unicodedata

MAX_FILENAME_CHARS = 150
_UNSAFE_FILENAME_CHARS = re.compile(r'[<>:"|?*]')
# Control and format characters (NUL, bidi overrides that disguise ``exe.pdf``), surrogates,
# private use, line and paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$"
)


def safe_filename(name: str | None) -> str:
    """A filename safe to show and to offer for download: never empty, never a path.

    Keeps only the last path component (``/`` and ``\\``), drops control and format characters,
    replaces characters Windows forbids, collapses whitespace, strips leading dots (no hidden or
    relative names) and cuts to 150 characters, keeping a short extension. Nothing left gives
    ``"attachment"``.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    text = _UNSAFE_FILENAME_CHARS.sub("_", text)
    text = " ".join(text.split()).lstrip(". ").rstrip(" ")
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            text = stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:MAX_FILENAME_CHARS].rstrip()
    return text or "attachment"


def safe_content_type(value: str | None) -> str:
    """A ``type/subtype`` as given when it is well-formed, else ``application/octet-stream``."""
    return value if value and _CONTENT_TYPE.match(value) else "application/octet-stream"
