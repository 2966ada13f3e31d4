"""Inbound mail as pure data: parse raw bytes, then classify them with small named filters.

No database, no network, no Temporal: the ingestion activities store the raw bytes, call
:func:`parse` and :func:`classify`, and decide what to do with the result (new ticket, follow-up,
quarantine, drop). Each step is a plain function, testable alone.
"""

from tempodesk.mail.filters import (
    Classification,
    FilterContext,
    auto_response_check,
    bounce_detection,
    classify,
    followup_detection,
    identify_sender,
    loop_detection,
    order_detection,
    spam_check,
)
from tempodesk.mail.parsing.attachments import Attachment, sanitize_filename
from tempodesk.mail.parsing.headers import normalize_message_id, parse_id_list
from tempodesk.mail.parsing.html import HTML_TOO_COMPLEX, HTML_TOO_LARGE, sanitize_html
from tempodesk.mail.parsing.parsed import MailRejected, ParsedMail, content_digest, dedupe_key
from tempodesk.mail.parsing.parser import parse
from tempodesk.mail.parsing.plaintext import html_to_text, trim_quoted

__all__ = [
    "HTML_TOO_COMPLEX",
    "HTML_TOO_LARGE",
    "Attachment",
    "Classification",
    "FilterContext",
    "MailRejected",
    "ParsedMail",
    "auto_response_check",
    "bounce_detection",
    "classify",
    "content_digest",
    "dedupe_key",
    "followup_detection",
    "html_to_text",
    "identify_sender",
    "loop_detection",
    "normalize_message_id",
    "order_detection",
    "parse",
    "parse_id_list",
    "sanitize_filename",
    "sanitize_html",
    "spam_check",
    "trim_quoted",
]
