"""Readable test messages for the parsing tests (the helpers the modules' tests share)."""

from __future__ import annotations

import pytest

from tempodesk.mail import MailRejected, parse

HEAD_FIELDS = {
    "From": "Jana Novakova <Jana@Example.com>",
    "To": "support@tempodesk.localhost",
    "Subject": "Hello",
    "Message-ID": "<m1@example.com>",
}
HEAD = "".join(f"{name}: {value}\n" for name, value in HEAD_FIELDS.items())
# A text part beside an HTML part, both filled in with .format(plain=..., html=...).
ALTERNATIVE = """Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain; charset=utf-8

{plain}
--alt
Content-Type: text/html; charset=utf-8

{html}
--alt--
"""


def eml(text: str, *, head: str = HEAD) -> bytes:
    """A message from readable text: HEAD prepended, LF turned into CRLF."""
    return (head + text).replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def plain(body: str = "Hello.", **fields: str) -> bytes:
    """A text/plain message; ``fields`` replace or add header fields (``_`` for ``-``)."""
    merged = HEAD_FIELDS | {name.replace("_", "-"): value for name, value in fields.items()}
    head = "".join(f"{name}: {value}\n" for name, value in merged.items())
    return eml("Content-Type: text/plain; charset=utf-8\n\n" + body + "\n", head=head)


def rejected(raw: bytes, **limits: int) -> MailRejected:
    """The rejection parse() raises for ``raw`` under ``limits`` (the test fails without one)."""
    with pytest.raises(MailRejected) as caught:
        parse(raw, **limits)
    return caught.value
