"""The walk over a message's parts: text and HTML bodies decoded, everything else attached.

Bodies are decoded best effort (charset fallbacks, RFC 3676 format=flowed undone, control
characters removed); what is odd becomes a defect string, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from tempodesk.mail.parsing.attachments import Attachment, attachment_from
from tempodesk.mail.parsing.charsets import codec_name, decode_bytes, fix_surrogates
from tempodesk.mail.parsing.parts import flattened_body, part_param, part_type, payload_bytes


def _unflow(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed: soft line breaks (a trailing space) rejoin paragraphs."""
    out: list[str] = []
    current: list[str] | None = None
    current_depth = 0

    def flush() -> None:
        if current is not None:
            body = "".join(current)
            prefix = ">" * current_depth
            out.append(f"{prefix} {body}" if prefix and body else prefix + body)

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        if soft and delsp:
            content = content[:-1]
        if current is not None and depth != current_depth:
            flush()
            current = None
        if current is None:
            current, current_depth = [content], depth
        else:
            current.append(content)
        if not soft:
            flush()
            current = None
    flush()
    return "\n".join(out)


_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean_body(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return _BODY_CONTROL.sub("", fix_surrogates(text))


@dataclass
class Walk:
    """One depth-first walk over the parts, collecting bodies, attachments and defects.

    Leaf ``text/plain`` and ``text/html`` parts are the body unless marked as attachments; a
    ``message/*`` part the parser split up is kept whole as an attachment (an ``.eml``).
    """

    max_depth: int
    max_attachment_bytes: int
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def visit(self, part: Message, depth: int) -> None:
        self.defects.extend(type(defect).__name__ for defect in getattr(part, "defects", []))
        if depth > self.max_depth:
            # The byte scan missed this nesting (an exotic boundary spelling); stop here.
            self.defects.append(f"parts nested deeper than {self.max_depth} levels ignored")
            return
        ctype = part_type(part)
        maintype = ctype.split("/", 1)[0]
        if part.is_multipart() and maintype == "multipart":
            for child in part.get_payload():
                if isinstance(child, Message):
                    self.visit(child, depth + 1)
            return
        try:
            disposition = part.get_content_disposition()
        except Exception:
            disposition = None
        if part.is_multipart():
            # message/rfc822, message/global, message/delivery-status: the parser split them.
            self._attach(part, ctype, flattened_body(part, self.defects), disposition)
            return
        if maintype == "multipart":
            self.defects.append(f"{ctype} without usable boundary; read as text")
            ctype = "text/plain"
        if ctype in ("text/plain", "text/html") and disposition != "attachment":
            self._body(part, ctype)
            return
        self._attach(part, ctype, payload_bytes(part, self.defects), disposition)

    def _body(self, part: Message, ctype: str) -> None:
        data = payload_bytes(part, self.defects)
        try:
            charset = part.get_content_charset()
        except Exception:
            charset = None
        if charset and not codec_name(charset):
            self.defects.append(f"unknown charset {charset[:40]!r}; decoded as UTF-8/cp1252")
        text = _clean_body(decode_bytes(data, charset))
        if ctype == "text/html":
            self.htmls.append(text)
            return
        if (part_param(part, "format") or "").lower() == "flowed":
            text = _unflow(text, (part_param(part, "delsp") or "").lower() == "yes")
        self.texts.append(text)

    def _attach(self, part: Message, ctype: str, data: bytes, disposition: str | None) -> None:
        attachment = attachment_from(
            part,
            ctype,
            data,
            disposition,
            max_bytes=self.max_attachment_bytes,
            defects=self.defects,
        )
        if attachment is not None:
            self.attachments.append(attachment)
