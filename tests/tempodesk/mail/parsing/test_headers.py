"""tempodesk.mail.parsing.headers (through parse): subjects, addresses, dates, Message-IDs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from tempodesk.mail import normalize_message_id, parse, parse_id_list
from tests.tempodesk.mail.parsing.messages import HEAD, eml, plain


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
