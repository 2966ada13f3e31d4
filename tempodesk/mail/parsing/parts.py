"""Reading one MIME part of the ``compat32`` tree without ever raising.

Broken MIME (a bad parameter, undecodable base64, a part the parser split up) gives a
fallback value and, where it matters, a defect string; never an exception.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO

from tempodesk.mail.parsing.charsets import fix_surrogates

# Two line ends in a row, as the stdlib feed parser splits lines (\r\n is one line end).
BLANK_LINE = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def safe_get(part: Message, name: str) -> str | None:
    try:
        value = part.get(name)
    except Exception:
        return None
    return None if value is None else str(value)


def part_type(part: Message) -> str:
    try:
        value = part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"
    return value if _CONTENT_TYPE.match(value) else "application/octet-stream"


def part_param(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return fix_surrogates(str(value))


def payload_bytes(part: Message, defects: list[str]) -> bytes:
    """The decoded body of a leaf part (base64, quoted-printable, uuencode undone)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception as error:
        defects.append(f"undecodable body: {type(error).__name__}")
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("ascii", "surrogateescape")
    return b""


def flattened_body(part: Message, defects: list[str]) -> bytes:
    """The body of a part whose payload the parser split up (message/*, delivery reports)."""
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=email.policy.compat32).flatten(part)
    except Exception as error:
        defects.append(f"could not re-serialise an enclosed message: {type(error).__name__}")
        return b""
    data = buffer.getvalue()
    if data.startswith((b"\r\n", b"\n")):
        # A part without headers of its own (the default type inside multipart/digest).
        return data.lstrip(b"\r").removeprefix(b"\n")
    blank = BLANK_LINE.search(data)
    return data[blank.end() :] if blank else b""


def part_filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return name or ""
