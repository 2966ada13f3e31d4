"""tempodesk.mail.parsing.bodies (through parse): text and HTML bodies, charsets, format=flowed."""

from __future__ import annotations

import base64

from tempodesk.mail import parse
from tests.tempodesk.mail.parsing.messages import ALTERNATIVE, eml, plain


def test_plain_text_is_preferred_over_html() -> None:
    mail = parse(eml(ALTERNATIVE.format(plain="Plain words.", html="<p>HTML words</p>")))
    assert mail.text == "Plain words."
    assert mail.html == "<p>HTML words</p>"


def test_html_only_message_gets_text_from_the_html() -> None:
    raw = eml("Content-Type: text/html\n\n<p>First</p><p>Second &amp; last</p>\n")
    assert parse(raw).text == "First\n\nSecond & last"


def test_whitespace_only_plain_part_falls_back_to_the_html_text() -> None:
    mail = parse(eml(ALTERNATIVE.format(plain="   ", html="<p>Real text</p>")))
    assert mail.text == "Real text"


def test_message_without_html_has_html_none() -> None:
    assert parse(plain()).html is None


def test_base64_body_is_decoded() -> None:
    encoded = base64.b64encode("žluťoučký kůň".encode()).decode()
    raw = eml(
        f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n{encoded}\n"
    )
    assert parse(raw).text == "žluťoučký kůň"


def test_quoted_printable_body_with_a_legacy_charset_is_decoded() -> None:
    raw = eml(
        "Content-Type: text/plain; charset=iso-8859-2\n"
        "Content-Transfer-Encoding: quoted-printable\n\nP=F8=EDli=B9 =BElu=BBou=E8k=FD =\nk=F9=F2\n"
    )
    assert parse(raw).text == "Příliš žluťoučký kůň"


def test_broken_base64_is_decoded_as_far_as_possible() -> None:
    raw = eml("Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nSGVsbG8gd29ybGQ\n")
    assert parse(raw).text.startswith("Hello world")


def test_unknown_body_charset_is_decoded_with_a_defect() -> None:
    raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\ncaf\xe9\r\n"
    mail = parse(raw)
    assert mail.text == "café"
    assert any("unknown charset" in d for d in mail.defects)


def test_utf8_body_declared_as_ascii_is_read_as_utf8() -> None:
    raw = eml("Content-Type: text/plain; charset=us-ascii\n\nDobrý den\n")
    assert parse(raw).text == "Dobrý den"


def test_bytes_to_text_codecs_are_not_used_as_charsets() -> None:
    raw = eml("Content-Type: text/plain; charset=rot13\n\nuryyb\n")
    assert parse(raw).text == "uryyb"


def test_format_flowed_soft_breaks_are_joined() -> None:
    raw = eml("Content-Type: text/plain; format=flowed\n\nOne long \nline.\nNext line.\n")
    assert parse(raw).text == "One long line.\nNext line."


def test_format_flowed_delsp_removes_the_soft_break_space() -> None:
    raw = eml("Content-Type: text/plain; format=flowed; delsp=yes\n\nsplit wo \nrd\n")
    assert parse(raw).text == "split word"


def test_format_flowed_quoted_lines_keep_their_quote_depth() -> None:
    raw = eml("Content-Type: text/plain; format=flowed\n\n> quoted \n> text\nmine\n")
    assert parse(raw).text == "> quoted text\nmine"


def test_format_flowed_signature_separator_is_not_a_soft_break() -> None:
    raw = eml("Content-Type: text/plain; format=flowed\n\nBody\n-- \nSignature\n")
    assert parse(raw).text == "Body\n-- \nSignature"


def test_missing_content_type_is_plain_text() -> None:
    assert parse(eml("\nJust text.\n")).text == "Just text."


def test_content_type_without_subtype_is_plain_text() -> None:
    assert parse(eml("Content-Type: text\n\nJust text.\n")).text == "Just text."


def test_multipart_without_boundary_is_read_as_text_with_a_defect() -> None:
    mail = parse(eml("Content-Type: multipart/mixed\n\nsome text\n"))
    assert "some text" in mail.text
    assert any("without usable boundary" in d for d in mail.defects)


def test_stdlib_defects_are_reported() -> None:
    raw = eml("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n")
    assert "CloseBoundaryNotFoundDefect" in parse(raw).defects


def test_nul_and_control_characters_are_removed_from_the_text() -> None:
    raw = b"From: a@example.com\r\n\r\nNUL\x00 bell\x07 tab\tkept\r\n"
    assert parse(raw).text == "NUL bell tab\tkept"


def test_line_ends_are_normalised_to_lf() -> None:
    raw = b"From: a@example.com\r\n\r\none\r\ntwo\rthree\r\n"
    assert parse(raw).text == "one\ntwo\nthree"


def test_multiple_text_parts_are_joined() -> None:
    raw = eml(
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n"
        "--b\nContent-Type: image/png\n\nx\n--b\nContent-Type: text/plain\n\ntwo\n--b--\n"
    )
    assert parse(raw).text == "one\n\ntwo"
