"""What parsing gives: a :class:`ParsedMail`, or a :class:`MailRejected` reason.

Plain data the filters, the router and storage read; and the dedupe key that makes the same
message delivered twice one stored row (RELIABILITY.md rule 2, R5).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from tempodesk.mail.parsing.attachments import Attachment
from tempodesk.mail.parsing.headers import normalize_message_id
from tempodesk.people.addresses import base_address, normalize_email

REJECT_KINDS = frozenset(
    {"too_large", "header_too_large", "too_many_parts", "too_deep", "unparseable", "no_sender"}
)


class MailRejected(Exception):
    """The message cannot become a ticket; the caller quarantines the raw bytes with the reason.

    ``kind`` is one of :data:`REJECT_KINDS` (machine-readable, for counters and the health
    page); ``reason`` is a sentence an admin can read.
    """

    def __init__(self, kind: str, reason: str) -> None:
        if kind not in REJECT_KINDS:
            raise ValueError(f"unknown rejection kind {kind!r}")
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass
class ParsedMail:
    """What one inbound message says, decoded to text (see ``parser.parse``)."""

    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    return_path: str | None = None
    date: datetime | None = None
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    size: int = 0

    def header(self, name: str) -> str | None:
        """The first value of a header (decoded), or None; ``name`` is case-insensitive."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]


def content_digest(raw: bytes) -> str:
    """SHA-256 (hex) of the raw bytes: the identity of the content, whatever its headers say."""
    return hashlib.sha256(raw).hexdigest()


def dedupe_key(raw: bytes, parsed: ParsedMail | None) -> str:
    """The durable dedupe key of an inbound message (RELIABILITY rule 2, R5), unique per
    mailbox: the same message delivered twice is one stored row.

    ``mid:`` and a SHA-256 of the normalised Message-ID *with the sender's address* when the
    message has a sane Message-ID (at most 900 characters): a Message-ID is chosen by the
    sender, so the same one from someone else is a different message, never a write into the
    first one's ticket (R5 g). Else ``raw:`` and the digest of the raw bytes: never random,
    so a message without a Message-ID delivered twice still collapses.
    """
    if parsed is not None:
        message_id = normalize_message_id(parsed.message_id)
        if message_id and len(message_id) <= 900:
            sender = base_address(normalize_email(parsed.from_address))
            return "mid:" + hashlib.sha256(f"{message_id}|{sender}".encode()).hexdigest()
    return "raw:" + content_digest(raw)
