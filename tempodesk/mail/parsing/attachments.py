"""Parts that are not the body: files, inline images, enclosed messages, and their names.

A filename is metadata only (ASVS V12.3.1): decoded from the header, then made safe by the
one rule for file names, :func:`tempodesk.core.files.safe_filename`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import Message

from tempodesk.core.files import safe_filename
from tempodesk.mail.parsing.charsets import fix_surrogates
from tempodesk.mail.parsing.headers import decode_words, normalize_message_id, one_line
from tempodesk.mail.parsing.parts import part_filename, safe_get


@dataclass
class Attachment:
    """A part that is not the body: a file, an inline image, a forwarded message, a DSN report.

    The filename is sanitised on construction, whoever builds the object: it is metadata only
    (ASVS V12.3.1) and is shown to agents, so it never carries path parts or control characters.
    """

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None

    def __post_init__(self) -> None:
        self.filename = sanitize_filename(self.filename)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


_DEFAULT_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
}


def sanitize_filename(name: str | None) -> str:
    """A filename from a mail header made safe (``tempodesk.core.files.safe_filename``), its
    encoded words and raw 8-bit bytes decoded first."""
    return safe_filename(fix_surrogates(decode_words(name or "")))


def attachment_from(
    part: Message,
    ctype: str,
    data: bytes,
    disposition: str | None,
    *,
    max_bytes: int,
    defects: list[str],
) -> Attachment | None:
    """The attachment a part becomes, or None (with a defect) when it is over ``max_bytes``."""
    filename = _filename(part, ctype)
    if len(data) > max_bytes:
        defects.append(
            f"attachment {sanitize_filename(filename)!r} ({len(data)} bytes) is over the "
            f"{max_bytes}-byte limit; kept only in the raw message"
        )
        return None
    content_id = normalize_message_id(safe_get(part, "content-id")) or None
    return Attachment(
        filename=filename,
        content_type=ctype,
        data=data,
        # Referenced from the HTML by cid: rather than offered as a file of its own.
        inline=content_id is not None and disposition != "attachment",
        content_id=content_id,
    )


def _filename(part: Message, ctype: str) -> str:
    """The part's own filename; else a forwarded message's subject; else one from its type."""
    filename = part_filename(part)
    if not filename and ctype in ("message/rfc822", "message/global"):
        enclosed = part.get_payload(0) if part.is_multipart() else None
        subject = safe_get(enclosed, "subject") if isinstance(enclosed, Message) else None
        filename = f"{one_line(decode_words(subject or ''))[:100] or 'forwarded-message'}.eml"
    return filename or "attachment" + _DEFAULT_EXTENSIONS.get(ctype, "")
