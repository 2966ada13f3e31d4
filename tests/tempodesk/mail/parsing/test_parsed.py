"""tempodesk.mail.parsing.parsed: dedupe keys and content digests."""

from __future__ import annotations

import hashlib

from tempodesk.mail import ParsedMail, content_digest, dedupe_key, parse
from tests.tempodesk.mail.parsing.messages import eml, plain


def test_dedupe_key_uses_the_message_id_with_its_sender() -> None:
    raw = plain()
    identity = "m1@example.com|" + parse(raw).from_address
    assert dedupe_key(raw, parse(raw)) == "mid:" + hashlib.sha256(identity.encode()).hexdigest()


def test_dedupe_key_without_message_id_hashes_the_raw_bytes() -> None:
    raw = eml("\nx\n", head="From: a@example.com\n")
    assert dedupe_key(raw, parse(raw)) == "raw:" + hashlib.sha256(raw).hexdigest()


def test_dedupe_key_without_parsed_mail_hashes_the_raw_bytes() -> None:
    assert dedupe_key(b"raw", None) == "raw:" + hashlib.sha256(b"raw").hexdigest()


def test_dedupe_key_for_an_overlong_message_id_hashes_the_raw_bytes() -> None:
    raw = b"x"
    mail = ParsedMail(message_id="a" * 901)
    assert dedupe_key(raw, mail).startswith("raw:")


def test_same_message_delivered_twice_gives_the_same_key() -> None:
    first = plain(Date="Tue, 03 Mar 2026 10:00:00 +0100")
    second = first.replace(b"<m1@example.com>", b" <m1@example.com> ")
    assert dedupe_key(first, parse(first)) == dedupe_key(second, parse(second))


def test_content_digest_is_the_sha256_of_the_raw_bytes() -> None:
    assert content_digest(b"abc") == hashlib.sha256(b"abc").hexdigest()
