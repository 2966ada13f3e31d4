"""``parse()``: raw RFC 5322 bytes in, a plain :class:`ParsedMail` out — or :class:`MailRejected`.

The steps, each in a module of this package: the guards (:mod:`.guards`) refuse shapes the
stdlib parser handles badly and parse the tree with ``compat32``; the header fields are read
one at a time (:mod:`.headers`); the walk over the parts (:mod:`.bodies`) decodes the bodies
and keeps the rest as attachments; HTML is sanitised (:mod:`.html`) and, when there is no
text part, read as text (:mod:`.plaintext`).
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import Message

from tempodesk.mail.parsing.bodies import Walk
from tempodesk.mail.parsing.charsets import fix_surrogates
from tempodesk.mail.parsing.guards import guarded_tree
from tempodesk.mail.parsing.headers import (
    address_list,
    decode_words,
    dedupe,
    modern_header,
    normalize_message_id,
    one_line,
    parse_date,
    parse_id_list,
    unfold,
    usable_address,
)
from tempodesk.mail.parsing.html import HTML_TOO_COMPLEX, HTML_TOO_LARGE, sanitize_html
from tempodesk.mail.parsing.parsed import MailRejected, ParsedMail
from tempodesk.mail.parsing.plaintext import html_to_text

# html_to_text is pure Python; past this the body text comes from the first part only.
MAX_HTML_FOR_TEXT = 1024 * 1024
MAX_DEFECTS = 200


def parse(
    raw: bytes,
    *,
    max_bytes: int = 25 * 1024 * 1024,
    max_header_bytes: int = 128 * 1024,
    max_parts: int = 500,
    max_depth: int = 30,
    max_attachment_bytes: int = 25 * 1024 * 1024,
    max_lines: int = 1_000_000,
) -> ParsedMail:
    """Parse one raw inbound message; see :mod:`tempodesk.mail.parsing` for the approach.

    Raises :class:`MailRejected` for a message over a guard limit (``too_large`` in bytes or
    lines, ``header_too_large``, ``too_many_parts``, ``too_deep``), without any usable sender
    address in From, Reply-To or Sender (``no_sender``), or with nothing readable
    (``unparseable``; also when the parser outruns its safety-net deadline).
    Everything else odd is recorded in ``defects`` and parsed as well as it can be. ``raw`` is
    only read, never changed.
    """
    if not isinstance(raw, bytes):
        raise TypeError("parse() takes the raw message as bytes")
    message = guarded_tree(
        raw,
        max_bytes=max_bytes,
        max_header_bytes=max_header_bytes,
        max_parts=max_parts,
        max_depth=max_depth,
        max_lines=max_lines,
    )
    fields = _Fields.of(message)
    defects: list[str] = []
    sender = _sender(fields, defects)
    subject = _subject(fields, defects)
    if len(fields.all("message-id")) > 1:
        defects.append("Message-ID: more than one; the first is used")
    walk = Walk(max_depth=max_depth, max_attachment_bytes=max_attachment_bytes)
    walk.visit(message, 1)
    text, html = _text_and_html(walk, defects)
    return ParsedMail(
        message_id=normalize_message_id(fields.first("message-id")),
        in_reply_to=parse_id_list(" ".join(fields.all("in-reply-to"))),
        references=parse_id_list(" ".join(fields.all("references"))),
        subject=subject,
        from_address=sender.address,
        from_name=sender.name,
        reply_to=sender.reply_to,
        to=_addresses(fields, "to", defects),
        cc=_addresses(fields, "cc", defects),
        return_path=_return_path(fields),
        date=parse_date(fields.first("date"), defects) if fields.has("date") else None,
        text=text,
        html=html,
        attachments=walk.attachments,
        # Values are text for filters and storage: one line, no control characters (no NUL).
        headers=[(name, one_line(decode_words(value))) for name, value in fields.items],
        defects=dedupe(walk.defects + defects)[:MAX_DEFECTS],
        size=len(raw),
    )


@dataclass
class _Fields:
    """The top-level header fields as the parser found them: names lower-cased, values raw."""

    items: list[tuple[str, str]]
    _values: dict[str, list[str]]

    @classmethod
    def of(cls, message: Message) -> _Fields:
        items = [(name.strip().lower(), value) for name, value in message.raw_items()]
        if not items:
            raise MailRejected("unparseable", "no header fields: this is not an RFC 5322 message")
        values: dict[str, list[str]] = {}
        for name, value in items:
            values.setdefault(name, []).append(value)
        return cls(items, values)

    def has(self, name: str) -> bool:
        return name in self._values

    def first(self, name: str) -> str:
        return self._values.get(name, [""])[0]

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])


@dataclass(frozen=True)
class _Sender:
    name: str
    address: str
    reply_to: str


def _sender(fields: _Fields, defects: list[str]) -> _Sender:
    """From's first usable address (and name) and Reply-To's; refused when From, Reply-To and
    Sender give no usable address at all."""
    senders = address_list("from", fields.first("from"), defects)
    name, address = senders[0] if senders else ("", "")
    if fields.has("from") and not address:
        defects.append("From: no usable address")
    reply_to = next(iter(address_list("reply-to", fields.first("reply-to"), defects)), ("", ""))
    sender_header = address_list("sender", fields.first("sender"), defects)
    if not (address or reply_to[1] or sender_header):
        raise MailRejected("no_sender", "no usable address in From, Reply-To or Sender")
    return _Sender(name=name, address=address, reply_to=reply_to[1])


def _subject(fields: _Fields, defects: list[str]) -> str:
    """The Subject as one line of text, decoded by whichever parser garbles it less."""
    subject_raw = fix_surrogates(unfold(fields.first("subject")))
    subject_header = modern_header("subject", subject_raw) if subject_raw else None
    subject = decode_words(subject_raw)
    if subject_header is not None:
        defects.extend(f"Subject: {type(d).__name__}" for d in subject_header.defects)
        # The modern parser is exact about whitespace between encoded words, but decodes a
        # mislabelled charset (GB2312 text using GBK characters) worse than our aliases do.
        modern = fix_surrogates(str(subject_header))
        if modern.count("\ufffd") <= subject.count("\ufffd"):
            subject = modern
    return one_line(fix_surrogates(subject))


def _addresses(fields: _Fields, name: str, defects: list[str]) -> list[str]:
    """The usable addresses of every To (or Cc) field, in order, without repeats."""
    pairs = address_list(name, ",".join(fields.all(name)), defects)
    return dedupe(address for _, address in pairs)


def _return_path(fields: _Fields) -> str | None:
    """None without Return-Path; "" for the null sender ``<>`` (a bounce); else the address."""
    if not fields.has("return-path"):
        return None
    value = fix_surrogates(unfold(fields.first("return-path"))).strip()
    if value.replace(" ", "") == "<>":
        return ""
    return usable_address(email.utils.parseaddr(value)[1])


def _text_and_html(walk: Walk, defects: list[str]) -> tuple[str, str | None]:
    """The body text (text parts joined, else the HTML read as text) and the sanitised HTML."""
    text = "\n\n".join(t.strip("\n") for t in walk.texts if t.strip())
    if not walk.htmls:
        return text, None
    html = sanitize_html("\n".join(walk.htmls))
    if html in (HTML_TOO_LARGE, HTML_TOO_COMPLEX):
        defects.append(f"HTML body not displayed: {html}")
        return text or html, html
    if not text:
        if len(html) > MAX_HTML_FOR_TEXT:
            defects.append("text taken from the first 1 MB of the HTML body")
        text = html_to_text(html[:MAX_HTML_FOR_TEXT])
    return text, html
