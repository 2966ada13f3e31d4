"""tempodesk.mail.parsing.guards (through parse): limits refused before the stdlib parser runs."""

from __future__ import annotations

import hashlib
import time

import pytest

from tempodesk.mail import MailRejected, parse
from tests.tempodesk.mail.parsing.messages import eml, plain, rejected


def test_message_over_max_bytes_is_rejected_as_too_large() -> None:
    raw = plain("x" * 1000)
    error = rejected(raw, max_bytes=len(raw) - 1)
    assert error.kind == "too_large"
    assert str(len(raw)) in error.reason


def test_message_of_exactly_max_bytes_is_parsed() -> None:
    raw = plain("x" * 1000)
    assert parse(raw, max_bytes=len(raw)).text.startswith("xxx")


def test_header_block_over_the_limit_is_rejected() -> None:
    raw = eml("X-Long: " + "a" * 2_000_000 + "\n\nbody\n")
    assert rejected(raw).kind == "header_too_large"


def test_header_without_blank_line_over_the_limit_is_rejected() -> None:
    raw = eml("X-Pad: x\n" * 20_000)
    assert rejected(raw).kind == "header_too_large"


def test_too_many_header_fields_in_parts_are_rejected() -> None:
    fields = "X-A: b\n" * 4_000
    parts = "".join(f"--b\nContent-Type: text/plain\n{fields}\nx\n" for _ in range(3))
    raw = eml(f"Content-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n")
    assert rejected(raw).kind == "header_too_large"


def test_content_type_with_hundreds_of_parameters_is_rejected() -> None:
    raw = eml("Content-Type: text/plain" + "; a=b" * 300 + "\n\nbody\n")
    error = rejected(raw)
    assert error.kind == "header_too_large"
    assert "parameters" in error.reason


def test_very_long_content_disposition_is_rejected() -> None:
    raw = eml(
        "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
        f'Content-Disposition: attachment; filename="{"a" * 20_000}"\n\nx\n--b--\n'
    )
    assert rejected(raw).kind == "header_too_large"


def test_too_many_lines_are_rejected_before_parsing() -> None:
    raw = plain("--\n" * 2_000_000)
    error = rejected(raw)
    assert error.kind == "too_large"
    assert "lines" in error.reason


def nested_multipart(levels: int) -> bytes:
    opening = "".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(levels)
    )
    closing = "".join(f"--b{i}--\n" for i in reversed(range(levels)))
    return eml(opening + "Content-Type: text/plain\n\ninnermost\n" + closing)


def test_nesting_deeper_than_max_depth_is_rejected_as_too_deep() -> None:
    assert rejected(nested_multipart(40)).kind == "too_deep"


def test_nesting_within_max_depth_is_parsed() -> None:
    assert parse(nested_multipart(20)).text == "innermost"


def test_nesting_with_rfc2231_continued_boundaries_is_counted() -> None:
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary*0="b{i}"; boundary*1="x"\n\n--b{i}x\n'
        for i in range(40)
    )
    closing = "".join(f"--b{i}x--\n" for i in reversed(range(40)))
    raw = eml(opening + "Content-Type: text/plain\n\ninnermost\n" + closing)
    assert rejected(raw).kind == "too_deep"


def test_boundary_that_decodes_to_non_ascii_is_read_as_no_boundary() -> None:
    raw = eml("Content-Type: multipart/mixed; boundary*=utf-8''%FF%FE\n\n--x\n\ntext\n")
    assert "text" in parse(raw).text


def test_nested_enclosed_messages_count_as_depth() -> None:
    raw = eml("Content-Type: message/rfc822\n\n" * 100 + "From: a@example.com\n\nx\n")
    assert rejected(raw).kind == "too_deep"


def test_side_by_side_forwarded_messages_do_not_add_depth() -> None:
    forwarded = "--b\nContent-Type: message/rfc822\n\nFrom: x@example.com\nSubject: f\n\nx\n"
    raw = eml(f"Content-Type: multipart/mixed; boundary=b\n\n{forwarded * 45}--b--\n")
    assert len(parse(raw).attachments) == 45


def test_more_parts_than_max_parts_are_rejected() -> None:
    parts = "--b\n\nx\n" * 600
    raw = eml(f"Content-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n")
    assert rejected(raw).kind == "too_many_parts"


def test_parts_up_to_max_parts_are_parsed() -> None:
    parts = "--b\nContent-Type: text/plain\n\nx\n" * 400
    raw = eml(f"Content-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n")
    assert parse(raw).text.count("x") == 400


def test_boundary_quoted_in_a_text_body_is_not_counted_as_nesting() -> None:
    quote = 'Our mailer wrote Content-Type: multipart/mixed; boundary="zz"\n' * 50
    assert "boundary" in parse(plain(quote)).text


def test_guards_are_configurable() -> None:
    raw = nested_multipart(5)
    assert rejected(raw, max_depth=4).kind == "too_deep"


def test_empty_message_is_unparseable() -> None:
    assert rejected(b"").kind == "unparseable"
    assert rejected(b"\r\n\r\n").kind == "unparseable"


@pytest.mark.parametrize(
    "raw",
    [bytes(range(256)) * 10, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)],
    ids=["all-byte-values", "outlook-msg-signature"],
)
def test_bytes_without_any_header_are_unparseable(raw: bytes) -> None:
    assert rejected(raw).kind == "unparseable"


def test_message_without_any_sender_address_is_rejected_no_sender() -> None:
    raw = eml("Content-Type: text/plain\n\nx\n", head="From: Undisclosed\nSubject: s\n")
    error = rejected(raw)
    assert error.kind == "no_sender"
    assert error.reason


def test_reply_to_alone_is_a_usable_sender() -> None:
    raw = eml("\nx\n", head="Reply-To: Only <only@example.com>\nSubject: s\n")
    mail = parse(raw)
    assert mail.from_address == ""
    assert mail.reply_to == "only@example.com"


def test_rejection_kind_must_be_known() -> None:
    with pytest.raises(ValueError):
        MailRejected("bogus", "why")


def test_parse_takes_bytes_only() -> None:
    with pytest.raises(TypeError):
        parse("From: a@example.com\n\nx")  # type: ignore[arg-type]


def test_parse_leaves_the_raw_bytes_unchanged() -> None:
    raw = plain("Body\r\nwith CRLF")
    before = hashlib.sha256(raw).hexdigest()
    parse(raw)
    assert hashlib.sha256(raw).hexdigest() == before


def test_bombs_are_rejected_fast() -> None:
    started = time.monotonic()
    rejected(nested_multipart(1000))
    rejected(eml("X-Long: " + "a" * 2_000_000 + "\n\nbody\n"))
    assert time.monotonic() - started < 5
