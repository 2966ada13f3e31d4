"""tempodesk.mail.parsing.attachments (through parse): attachments and their file names."""

from __future__ import annotations

import hashlib

import pytest

from tempodesk.mail import Attachment, parse, sanitize_filename
from tests.tempodesk.mail.parsing.messages import eml


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
