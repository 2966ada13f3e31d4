"""Properties of the inbound mail pipeline's pure part, over generated messages.

Whatever arrives, ``parse`` gives a message or a ``MailRejected`` with a reason (never another
exception); everything it gives is text PostgreSQL can store; what a well-formed message says
comes back out; and the HTML an agent sees is inert however it was written.
"""

from __future__ import annotations

import os
import re
from base64 import encodebytes
from email.header import Header

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tempodesk.mail import MailRejected, parse
from tempodesk.mail.parsing.html import sanitize_html
from tempodesk.mail.parsing.parsed import ParsedMail, dedupe_key

SETTINGS = settings(
    max_examples=int(os.environ.get("TEMPODESK_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Header names and values as they come in real and hostile mail.
header_names = st.sampled_from(
    [
        "From",
        "To",
        "Cc",
        "Reply-To",
        "Sender",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Date",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "Content-ID",
        "MIME-Version",
        "Return-Path",
        "X-Custom",
    ]
)
header_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "Jana <jana@example.com>",
            "<>",
            "=?utf-8?b?SmFuYQ==?= <j@example.com>",
            "=?x-unknown?q?=FF=FE?=",
            'multipart/mixed; boundary="b"',
            "multipart/alternative; boundary=b",
            "text/html; charset=utf-8",
            "text/plain; charset=bogus",
            "base64",
            "quoted-printable",
            "<a@b> <c@d>",
            "Tue, 31 Feb 2026 25:61:61 +9999",
        ]
    ),
)
bodies = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n",
            b"--b\r\nContent-Type: text/html\r\n\r\n<p onclick=x()>hi<script>1</script>\r\n--b",
            b"--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@\r\n",
            b"PGI+aGk8L2I+\r\n",
        ]
    ),
)


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    fields = draw(st.lists(st.tuples(header_names, header_values), max_size=12))
    head = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return head.encode("utf-8", "surrogatepass") + b"\r\n" + draw(bodies)


def _storable(value: str) -> bool:
    """Text PostgreSQL takes: no NUL, no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _assert_storable(parsed: ParsedMail) -> None:
    texts = [
        parsed.message_id,
        parsed.subject,
        parsed.from_address,
        parsed.from_name,
        parsed.reply_to,
        parsed.text,
        parsed.html or "",
        parsed.return_path or "",
        *parsed.in_reply_to,
        *parsed.references,
        *parsed.to,
        *parsed.cc,
        *parsed.defects,
        *(part for pair in parsed.headers for part in pair),
        *(a.filename for a in parsed.attachments),
        *(a.content_type for a in parsed.attachments),
    ]
    assert all(_storable(text) for text in texts)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject
    # Someone to answer: From, else Reply-To, else Sender (the filters' identify_sender).
    assert parsed.from_address or parsed.reply_to or parsed.header("sender")


def _parse_or_reject(raw: bytes) -> ParsedMail | None:
    try:
        parsed = parse(raw)
    except MailRejected as exc:
        assert exc.reason
        return None
    _assert_storable(parsed)
    return parsed


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_message_or_a_reason(raw: bytes) -> None:
    _parse_or_reject(raw)


@SETTINGS
@given(raw_messages())
def test_any_header_soup_gives_storable_text_or_a_reason(raw: bytes) -> None:
    parsed = _parse_or_reject(raw)
    assert dedupe_key(raw, parsed) == dedupe_key(raw, parsed)


# Readable text: no control characters (the pipeline removes them by design).
readable = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\ufeff"),
    max_size=120,
)


def _encoded(text: str) -> str:
    """A header value as careful mail programs write it: RFC 2047 words, spaces inside them."""
    return Header(text, "utf-8").encode(linesep="\r\n")


@SETTINGS
@given(
    subject=readable,
    name=readable,
    body=st.lists(readable, min_size=1, max_size=6).map("\n".join),
)
# A long name folds into several encoded words: the space between them is not the name's.
@example(subject="Reklamace " * 8, name="Ярослава Шевчук-Коваленко" * 2, body="Dobrý den")
def test_what_a_well_formed_message_says_comes_back_out(subject: str, name: str, body: str) -> None:
    sender = f"{_encoded(name)} <jana@example.com>"
    raw = (
        f"From: {sender}\r\nTo: support@tempodesk.localhost\r\n"
        f"Subject: {_encoded(subject)}\r\nMessage-ID: <property@example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode("ascii") + encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n")
    parsed = parse(raw)
    assert parsed.from_address == "jana@example.com"
    assert parsed.from_name == " ".join(name.split())
    assert parsed.subject == " ".join(subject.split())
    assert parsed.message_id == "property@example.com"
    assert parsed.text.strip() == body.strip()


hostile_html = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            [
                "<script>alert(1)</script>",
                "<img src=x onerror=alert(1)>",
                '<a href="javascript:alert(1)">x</a>',
                '<a href=" JaVaScRiPt:alert(1)">x</a>',
                "<svg onload=alert(1)>",
                "<iframe src=//evil>",
                "<style>@import 'x'</style>",
                '<div style="background:url(javascript:x)">',
                "<p",
                "<!--",
                "<![CDATA[",
                "<math><mi xlink:href=javascript:x>",
                "&lt;script&gt;",
                "<a href=data:text/html,x>",
                "<form action=//evil><input>",
                "<b>",
                "</b>",
            ]
        ),
    ),
    max_size=12,
).map("".join)

_ACTIVE = re.compile(
    r"<\s*(script|style|iframe|svg|math|form|input|object|embed)\b|\son\w+\s*=|javascript:|\sstyle\s*=",
    re.IGNORECASE,
)


@SETTINGS
@given(hostile_html)
def test_sanitised_html_is_inert_and_stable(html: str) -> None:
    cleaned = sanitize_html(html)
    assert not _ACTIVE.search(cleaned)
    assert "data:text" not in cleaned
    assert sanitize_html(cleaned) == cleaned
