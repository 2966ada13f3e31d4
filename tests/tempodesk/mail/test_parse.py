"""tempodesk.mail.parse: guards, headers, bodies, attachments, HTML and quoted replies."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime

import pytest

from tempodesk.mail import (
    HTML_TOO_COMPLEX,
    HTML_TOO_LARGE,
    Attachment,
    MailRejected,
    ParsedMail,
    content_digest,
    dedupe_key,
    html_to_text,
    normalize_message_id,
    parse,
    parse_id_list,
    sanitize_filename,
    sanitize_html,
    trim_quoted,
)

HEAD_FIELDS = {
    "From": "Jana Novakova <Jana@Example.com>",
    "To": "support@tempodesk.localhost",
    "Subject": "Hello",
    "Message-ID": "<m1@example.com>",
}
HEAD = "".join(f"{name}: {value}\n" for name, value in HEAD_FIELDS.items())


def eml(text: str, *, head: str = HEAD) -> bytes:
    """A message from readable text: HEAD prepended, LF turned into CRLF."""
    return (head + text).replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def plain(body: str = "Hello.", **fields: str) -> bytes:
    """A text/plain message; ``fields`` replace or add header fields (``_`` for ``-``)."""
    merged = HEAD_FIELDS | {name.replace("_", "-"): value for name, value in fields.items()}
    head = "".join(f"{name}: {value}\n" for name, value in merged.items())
    return eml("Content-Type: text/plain; charset=utf-8\n\n" + body + "\n", head=head)


def rejected(raw: bytes, **limits: int) -> MailRejected:
    with pytest.raises(MailRejected) as caught:
        parse(raw, **limits)
    return caught.value


# ---------------------------------------------------------------------------------------------
# Guards


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


# ---------------------------------------------------------------------------------------------
# Headers


def test_encoded_word_subject_is_decoded() -> None:
    raw = plain(Subject="=?utf-8?q?Objedn=C3=A1vka?= =?utf-8?b?IG5lZG9yYXppbGE=?=")
    assert parse(raw).subject == "Objednávka nedorazila"


def test_subject_is_one_line_with_whitespace_collapsed() -> None:
    raw = eml(
        "Subject: first\n   second\t\tthird =?utf-8?q?a=0D=0ABcc=3A_x=40example.com?=\n"
        "Content-Type: text/plain\n\nx\n",
        head="From: a@example.com\n",
    )
    subject = parse(raw).subject
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("first second third a")


def test_subject_control_characters_are_removed() -> None:
    raw = eml("Subject: bell\x07 escape\x1b[31m\n\nx\n", head="From: a@example.com\n")
    assert "\x07" not in parse(raw).subject
    assert "\x1b" not in parse(raw).subject


def test_from_address_is_lower_cased_and_name_decoded() -> None:
    raw = eml(
        "\nx\n",
        head="From: =?utf-8?q?Ji=C5=99=C3=AD_Dvo=C5=99=C3=A1k?= <Jiri@Example.CZ>\n",
    )
    mail = parse(raw)
    assert mail.from_address == "jiri@example.cz"
    assert mail.from_name == "Jiří Dvořák"


def test_raw_utf8_headers_are_decoded() -> None:
    raw = "From: Jiří <jiri@example.cz>\r\nSubject: Objednávka\r\n\r\nx\r\n".encode()
    mail = parse(raw)
    assert mail.subject == "Objednávka"
    assert mail.from_name == "Jiří"


def test_raw_latin1_header_falls_back_to_cp1252() -> None:
    raw = b"From: a@example.com\r\nSubject: caf\xe9\r\n\r\nx\r\n"
    assert parse(raw).subject == "café"


def test_encoded_word_with_unknown_charset_does_not_raise() -> None:
    raw = plain(Subject="=?x-klingon?q?Qapla=27?= ok")
    assert parse(raw).subject.endswith("ok")


def test_subject_in_a_mislabelled_gb2312_is_decoded_with_its_superset() -> None:
    # "銶" is in GBK/GB18030 but not in GB2312; mail clients label such text GB2312 anyway.
    encoded = "=?gb2312?b?" + base64.b64encode("銶".encode("gb18030")).decode()
    raw = plain(Subject=encoded + "?=")
    assert parse(raw).subject == "銶"


def test_to_and_cc_are_lower_cased_lists() -> None:
    raw = plain(Cc="B <B@example.org>, c@example.org")
    mail = parse(raw)
    assert mail.to == ["support@tempodesk.localhost"]
    assert mail.cc == ["b@example.org", "c@example.org"]


def test_undecodable_bytes_in_an_encoded_display_name_become_text() -> None:
    raw = eml("\nx\n", head="From: =?utf-8?b?/////w==?= <a@example.com>\n")
    name = parse(raw).from_name
    name.encode("utf-8")  # no lone surrogates: storable and renderable


def test_broken_address_header_falls_back_to_the_plain_parser() -> None:
    raw = eml("\nx\n", head="From: Jana <jana@example.com\n")
    assert parse(raw).from_address == "jana@example.com"


def test_return_path_absent_is_none() -> None:
    assert parse(plain()).return_path is None


def test_null_return_path_is_empty_string() -> None:
    assert parse(plain(Return_Path="<>")).return_path == ""


def test_return_path_address_is_lower_cased() -> None:
    assert parse(plain(Return_Path="<Bounce@Example.com>")).return_path == ("bounce@example.com")


def test_date_is_aware_utc() -> None:
    mail = parse(plain(Date="Tue, 03 Mar 2026 10:00:00 +0100"))
    assert mail.date == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_date_without_zone_is_taken_as_utc() -> None:
    mail = parse(plain(Date="Tue, 03 Mar 2026 10:00:00 -0000"))
    assert mail.date == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def test_unparseable_date_is_none_with_a_defect() -> None:
    mail = parse(plain(Date="31 Foo 99999 25:61:61"))
    assert mail.date is None
    assert "Date: unparseable" in mail.defects


def test_headers_keep_order_lower_case_names_and_decoded_values() -> None:
    mail = parse(plain(X_First="=?utf-8?q?caf=C3=A9?=", X_Second="2"))
    names = [name for name, _ in mail.headers]
    assert names.index("x-first") < names.index("x-second")
    assert mail.header("X-First") == "café"
    assert mail.header_values("x-second") == ["2"]


def test_second_message_id_is_a_defect_and_the_first_wins() -> None:
    mail = parse(eml("\nx\n", head=HEAD + "Message-ID: <second@example.com>\n"))
    assert mail.message_id == "m1@example.com"
    assert any("more than one" in d for d in mail.defects)


def test_in_reply_to_and_references_are_normalised_lists() -> None:
    mail = parse(plain(In_Reply_To="<a@x>", References="<r1@x>\n <r2@x> <r1@x>"))
    assert mail.in_reply_to == ["a@x"]
    assert mail.references == ["r1@x", "r2@x"]


def test_size_is_the_raw_length() -> None:
    raw = plain()
    assert parse(raw).size == len(raw)


# ---------------------------------------------------------------------------------------------
# Message-IDs and dedupe keys


@pytest.mark.parametrize(
    "value",
    ["<a@b>", " <a@b> ", "a@b", "<a@\r\n b>", "<a@b> (comment)", "\t<a@b>\t"],
)
def test_message_ids_differing_in_brackets_whitespace_or_folding_normalise_equal(
    value: str,
) -> None:
    assert normalize_message_id(value) == "a@b"


@pytest.mark.parametrize("value", ["", "   ", "<>", "<a\x00b@c>", "<" + "a" * 1000 + "@b>"])
def test_garbage_message_id_normalises_to_empty(value: str) -> None:
    assert normalize_message_id(value) == ""


def test_message_id_case_is_kept() -> None:
    assert normalize_message_id("<ABC@Example.com>") == "ABC@Example.com"


def test_id_list_keeps_order_and_drops_duplicates() -> None:
    assert parse_id_list("<b@x> <a@x> <b@x>") == ["b@x", "a@x"]


def test_id_list_accepts_bare_ids_and_ignores_comment_words() -> None:
    assert parse_id_list("bare@x, <a@x> (Jana's message of Monday)") == ["bare@x", "a@x"]


def test_id_list_keeps_the_newest_hundred() -> None:
    ids = parse_id_list(" ".join(f"<{i}@x>" for i in range(150)))
    assert len(ids) == 100
    assert ids[-1] == "149@x"


def test_dedupe_key_uses_the_message_id() -> None:
    raw = plain()
    assert dedupe_key(raw, parse(raw)) == "mid:m1@example.com"


def test_dedupe_key_without_message_id_hashes_the_raw_bytes() -> None:
    raw = eml("\nx\n", head="From: a@example.com\n")
    assert dedupe_key(raw, parse(raw)) == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_dedupe_key_without_parsed_mail_hashes_the_raw_bytes() -> None:
    assert dedupe_key(b"raw", None) == "sha256:" + hashlib.sha256(b"raw").hexdigest()


def test_dedupe_key_for_an_overlong_message_id_hashes_the_raw_bytes() -> None:
    raw = b"x"
    mail = ParsedMail(message_id="a" * 901)
    assert dedupe_key(raw, mail).startswith("sha256:")


def test_same_message_delivered_twice_gives_the_same_key() -> None:
    first = plain(Date="Tue, 03 Mar 2026 10:00:00 +0100")
    second = first.replace(b"<m1@example.com>", b" <m1@example.com> ")
    assert dedupe_key(first, parse(first)) == dedupe_key(second, parse(second))


def test_content_digest_is_the_sha256_of_the_raw_bytes() -> None:
    assert content_digest(b"abc") == hashlib.sha256(b"abc").hexdigest()


# ---------------------------------------------------------------------------------------------
# Bodies


ALTERNATIVE = """Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain; charset=utf-8

{plain}
--alt
Content-Type: text/html; charset=utf-8

{html}
--alt--
"""


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


# ---------------------------------------------------------------------------------------------
# Attachments


def multipart(*parts: str) -> bytes:
    body = "".join(f"--b\n{part}\n" for part in parts)
    return eml(f"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nText.\n{body}--b--\n")


def test_attachment_keeps_decoded_data_and_hashes() -> None:
    raw = multipart(
        "Content-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\n"
        "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK"
    )
    (attachment,) = parse(raw).attachments
    assert attachment.filename == "a.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.data == b"%PDF-1.4\n"
    assert attachment.size == 9
    assert attachment.sha256 == hashlib.sha256(b"%PDF-1.4\n").hexdigest()
    assert attachment.inline is False


def test_inline_cid_image_is_marked_inline_with_its_content_id() -> None:
    raw = eml(
        "Content-Type: multipart/related; boundary=r\n\n--r\nContent-Type: text/html\n\n"
        '<img src="cid:logo@x">\n--r\nContent-Type: image/png\nContent-ID: <logo@x>\n'
        "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--r--\n"
    )
    mail = parse(raw)
    (image,) = mail.attachments
    assert image.inline is True
    assert image.content_id == "logo@x"
    assert mail.html == '<img src="cid:logo@x">'


def test_image_with_content_id_but_attachment_disposition_is_not_inline() -> None:
    raw = multipart(
        "Content-Type: image/png\nContent-ID: <a@x>\nContent-Disposition: attachment\n\nx"
    )
    assert parse(raw).attachments[0].inline is False


def test_forwarded_message_becomes_an_eml_attachment_named_by_its_subject() -> None:
    raw = multipart(
        "Content-Type: message/rfc822\n\nFrom: shop@example.net\nSubject: Order ORD-3003\n"
        "Message-ID: <o@x>\n\nThanks."
    )
    (forwarded,) = parse(raw).attachments
    assert forwarded.filename == "Order ORD-3003.eml"
    assert forwarded.content_type == "message/rfc822"
    assert b"Message-ID: <o@x>" in forwarded.data
    assert forwarded.data.rstrip().endswith(b"Thanks.")


def test_html_attachment_is_not_the_body() -> None:
    raw = multipart(
        "Content-Type: text/html\nContent-Disposition: attachment; filename=p.html\n\n"
        "<script>alert(1)</script>"
    )
    mail = parse(raw)
    assert mail.html is None
    assert mail.attachments[0].data == b"<script>alert(1)</script>"


def test_svg_attachment_is_kept_as_an_attachment() -> None:
    raw = multipart('Content-Type: image/svg+xml; name="logo.svg"\n\n<svg onload="x"/>')
    (svg,) = parse(raw).attachments
    assert (svg.filename, svg.content_type) == ("logo.svg", "image/svg+xml")


def test_delivery_status_part_is_kept_as_an_attachment() -> None:
    raw = multipart(
        "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
        "Final-Recipient: rfc822; gone@example.org\nAction: failed\n"
    )
    (status,) = parse(raw).attachments
    assert status.content_type == "message/delivery-status"
    assert b"Final-Recipient: rfc822; gone@example.org" in status.data


def test_text_rfc822_headers_part_is_an_attachment_not_body_text() -> None:
    raw = multipart("Content-Type: text/rfc822-headers\n\nMessage-ID: <orig@x>")
    mail = parse(raw)
    assert mail.text == "Text."
    assert mail.attachments[0].content_type == "text/rfc822-headers"


def test_unnamed_attachment_gets_a_name_from_its_type() -> None:
    raw = multipart("Content-Type: image/png\nContent-Disposition: attachment\n\nx")
    assert parse(raw).attachments[0].filename == "attachment.png"


def test_attachment_over_the_limit_is_dropped_with_a_defect() -> None:
    raw = multipart("Content-Type: application/octet-stream\n\n" + "x" * 2000)
    mail = parse(raw, max_attachment_bytes=1000)
    assert mail.attachments == []
    assert any("limit" in d for d in mail.defects)


def test_attachment_filename_with_path_and_nul_is_sanitised() -> None:
    raw = multipart(
        "Content-Type: application/octet-stream\n"
        "Content-Disposition: attachment; filename*=utf-8''..%2F..%2Fetc%2Fevil%00.exe\n\nx"
    )
    assert parse(raw).attachments[0].filename == "evil.exe"


def test_attachment_filename_encoded_words_are_decoded() -> None:
    raw = multipart(
        "Content-Type: application/pdf\n"
        'Content-Disposition: attachment; filename="=?utf-8?q?faktura_=C4=8D=2E1.pdf?="\n\nx'
    )
    assert parse(raw).attachments[0].filename == "faktura č.1.pdf"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("evil\x00.exe", "evil.exe"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("...hidden", "hidden"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("a<b>c:d|e?f*.txt", "a_b_c_d_e_f_.txt"),
        ("  spaced \t  name .txt ", "spaced name .txt"),
    ],
)
def test_sanitize_filename(name: str | None, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_long_filename_is_cut_to_150_characters_keeping_the_extension() -> None:
    name = sanitize_filename("a" * 300 + ".pdf")
    assert len(name) == 150
    assert name.endswith(".pdf")


def test_attachment_constructor_sanitises_the_filename() -> None:
    assert Attachment("../x/y.txt", "text/plain", b"").filename == "y.txt"


# ---------------------------------------------------------------------------------------------
# sanitize_html


XSS = [
    "<script>alert('XSS')</script>",
    "<img src=x onerror=alert('XSS')>",
    "<a href=\"javascript:alert('XSS')\">x</a>",
    "<a href=\"JaVaScRiPt:alert('XSS')\">x</a>",
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<svg onload=alert('XSS')><circle/></svg>",
    '<base href="https://evil.example/">',
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example/"><input name=p></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<img src="https://tracker.example/pixel.gif" width="1" height="1">',
    '<p style="background:url(https://evil.example/)">styled</p>',
    "<style>body{background:url(https://evil.example/)}</style>",
    '<body onload="alert(1)">',
    '<div onmouseover="alert(1)">hover</div>',
    '<math><maction xlink:href="javascript:alert(1)">m</maction></math>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<scr<script>ipt>alert(1)</script>",
    '<a href="https://ok.example/" onclick="alert(1)">ok</a>',
]
INERT_MARKERS = (
    "<script", "onerror", "onload", "onclick", "onmouseover", "javascript:", "vbscript:",
    "<base", "<iframe", "<object", "<embed", "<form", "<meta", "style=", "<style", "<svg",
    "<math", "tracker.example", "evil.example", "data:text", "data:image/svg",
)  # fmt: skip


@pytest.mark.parametrize("payload", XSS)
def test_hostile_html_is_inert_after_sanitize_html(payload: str) -> None:
    cleaned = sanitize_html(payload).lower()
    for marker in INERT_MARKERS:
        assert marker not in cleaned, (payload, cleaned)


def test_script_and_style_content_is_removed_not_shown() -> None:
    assert sanitize_html("<script>alert(1)</script><style>p{}</style><p>ok</p>") == "<p>ok</p>"


def test_links_keep_http_https_mailto_with_rel() -> None:
    cleaned = sanitize_html(
        '<a href="https://a.example/x">a</a><a href="http://b.example/">b</a>'
        '<a href="mailto:c@example.com">c</a>'
    )
    assert cleaned.count('rel="noopener noreferrer nofollow"') == 3
    assert 'href="https://a.example/x"' in cleaned
    assert 'href="mailto:c@example.com"' in cleaned


def test_relative_links_are_removed() -> None:
    assert "href" not in sanitize_html('<a href="/admin/delete">x</a>')


def test_embedded_images_are_kept_and_remote_images_lose_their_source() -> None:
    cleaned = sanitize_html(
        '<img src="cid:a@b"><img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="https://remote.example/p.png">'
    )
    assert 'src="cid:a@b"' in cleaned
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in cleaned
    assert "remote.example" not in cleaned


def test_basic_formatting_lists_and_tables_are_kept() -> None:
    html = (
        "<p><b>b</b><i>i</i><u>u</u></p><ul><li>one</li></ul>"
        '<table><tbody><tr><td colspan="2">cell</td></tr></tbody></table>'
    )
    assert sanitize_html(html) == html


def test_html_over_two_megabytes_is_replaced_by_the_fallback_text() -> None:
    assert sanitize_html("<p>" + "x" * (2 * 1024 * 1024) + "</p>") == HTML_TOO_LARGE


def test_large_html_is_sanitised_in_a_child_process_with_the_same_rules() -> None:
    html = "<p onclick='x()'>Hello <script>alert(1)</script>world</p>" * 2000
    cleaned = sanitize_html(html)
    assert cleaned.count("<p>Hello world</p>") == 2000
    assert "script" not in cleaned


def test_pathological_html_falls_back_within_the_time_budget() -> None:
    started = time.monotonic()
    # html5ever is quadratic on deep block nesting: this takes minutes when not stopped.
    assert sanitize_html("<div>" * 300_000) == HTML_TOO_COMPLEX
    assert time.monotonic() - started < 5


def test_parse_marks_an_undisplayable_html_body() -> None:
    raw = eml("Content-Type: text/html\n\n" + "<div>" * 300_000 + "\n")
    mail = parse(raw)
    assert mail.html == HTML_TOO_COMPLEX
    assert mail.text == HTML_TOO_COMPLEX
    assert any("not displayed" in d for d in mail.defects)


def test_parse_sanitises_the_html_body() -> None:
    mail = parse(eml(ALTERNATIVE.format(plain="p", html="<p onclick=x>hi</p><script>y</script>")))
    assert mail.html == "<p>hi</p>"


# ---------------------------------------------------------------------------------------------
# html_to_text


def test_html_to_text_turns_blocks_into_lines() -> None:
    assert html_to_text("<div>one</div><div>two<br>three</div>") == "one\ntwo\nthree"


def test_html_to_text_shows_links_as_text_and_url() -> None:
    assert html_to_text('<a href="https://x.example/a">the page</a>') == (
        "the page (https://x.example/a)"
    )


def test_html_to_text_does_not_repeat_a_link_that_shows_its_url() -> None:
    html = '<a href="https://x.example/">https://x.example/</a>'
    assert html_to_text(html) == "https://x.example/"


def test_html_to_text_decodes_entities() -> None:
    assert html_to_text("<p>a &amp; b &lt;c&gt; &eacute; &#x41;</p>") == "a & b <c> é A"


def test_html_to_text_drops_script_and_style_content() -> None:
    assert html_to_text("<style>p{}</style><script>x()</script><p>ok</p>") == "ok"


def test_html_to_text_keeps_preformatted_whitespace() -> None:
    assert html_to_text("<pre>a  b\n  c</pre>") == "a  b\n  c"


def test_html_to_text_lists_items() -> None:
    assert html_to_text("<ul>\n <li>\n one</li>\n <li>two</li></ul>") == "- one\n- two"


def test_html_to_text_separates_paragraphs_by_a_blank_line() -> None:
    assert html_to_text("<p>one</p>\n<p>two</p>") == "one\n\ntwo"


def test_html_to_text_separates_table_cells() -> None:
    assert html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") == (
        "a b\nc"
    )


# ---------------------------------------------------------------------------------------------
# trim_quoted


def test_trim_quoted_cuts_at_on_date_name_wrote() -> None:
    text = "Thanks!\n\nOn Mon, 2 Mar 2026 at 09:00, Support <s@x> wrote:\n> old\n> text\n"
    assert trim_quoted(text) == "Thanks!"


def test_trim_quoted_cuts_at_an_attribution_wrapped_over_two_lines() -> None:
    text = (
        "Thanks!\n\nOn Mon, 2 Mar 2026 at 09:00, Support Team <support@\nexample.com> wrote:\n> x"
    )
    assert trim_quoted(text) == "Thanks!"


def test_trim_quoted_cuts_at_czech_attribution() -> None:
    text = "Díky.\n\nDne po 2. 3. 2026 v 9:00 Podpora <s@x> napsal(a):\n> stará zpráva\n"
    assert trim_quoted(text) == "Díky."


def test_trim_quoted_cuts_at_german_attribution() -> None:
    text = "Danke.\n\nAm 02.03.2026 um 09:00 schrieb Support <s@x>:\n> alt\n"
    assert trim_quoted(text) == "Danke."


def test_trim_quoted_cuts_at_original_message_separator() -> None:
    text = "New text.\n\n-----Original Message-----\nFrom: x\nold text\n"
    assert trim_quoted(text) == "New text."


def test_trim_quoted_cuts_at_an_outlook_header_block() -> None:
    text = (
        "New text.\n\n________________________________\nFrom: Support <s@x>\n"
        "Sent: Monday, March 2, 2026 9:00 AM\nTo: Jana\nSubject: RE: x\n\nold text\n"
    )
    assert trim_quoted(text) == "New text."


def test_trim_quoted_drops_a_trailing_quote_block() -> None:
    assert trim_quoted("Answer.\n\n> quoted\n> more\n\n") == "Answer."


def test_trim_quoted_keeps_inline_answers_between_quotes() -> None:
    text = "> question one\nanswer one\n> question two\nanswer two\n"
    assert trim_quoted(text) == "> question one\nanswer one\n> question two\nanswer two"


def test_trim_quoted_drops_the_signature() -> None:
    assert trim_quoted("Answer.\n-- \nJana Novakova\nACME") == "Answer."


def test_trim_quoted_returns_the_full_text_when_the_answer_is_below_the_quote() -> None:
    text = "On Mon, 2 Mar 2026, Support <s@x> wrote:\n> old\n\nMy answer below."
    assert trim_quoted(text) == text


def test_trim_quoted_of_only_quoted_text_is_empty() -> None:
    assert trim_quoted("> only\n> quoted\n") == ""


def test_trim_quoted_does_not_cut_a_sentence_mentioning_from() -> None:
    text = "From: the warehouse, nothing arrived.\nPlease check."
    assert trim_quoted(text) == text
