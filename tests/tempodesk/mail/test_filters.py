"""tempodesk.mail.filters: each named filter alone, then the pipeline over crafted mail."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tempodesk.mail import (
    Attachment,
    Classification,
    FilterContext,
    ParsedMail,
    auto_response_check,
    bounce_detection,
    classify,
    content_digest,
    dedupe_key,
    followup_detection,
    identify_sender,
    loop_detection,
    order_detection,
    parse,
    spam_check,
)
from tempodesk.mail.filters import KINDS
from tempodesk.mail.patterns import ORDER_PATTERN_SECONDS, pattern_problem
from tempodesk.people.addresses import base_address

CRAFTED = Path(__file__).resolve().parents[2] / "corpus" / "crafted"
CONTEXT = FilterContext(
    own_addresses=frozenset({"Support@Tempodesk.localhost"}),
    own_domains=frozenset({"tempodesk.localhost"}),
)


def mail(*headers: tuple[str, str], **fields: object) -> ParsedMail:
    values: dict[str, object] = {
        "from_address": "jana@example.com",
        "from_name": "Jana",
        "subject": "Question",
        "text": "Hello, where is my parcel?",
    }
    values.update(fields)
    parsed = ParsedMail(**values)  # type: ignore[arg-type]
    parsed.headers = [(name.lower(), value) for name, value in headers]
    return parsed


def run(step: object, parsed: ParsedMail, context: FilterContext = CONTEXT) -> Classification:
    result = Classification()
    identify_sender(parsed, context, result)
    if step is not identify_sender:
        step(parsed, context, result)  # type: ignore[operator]
    return result


def crafted(name: str) -> Classification:
    return classify(parse((CRAFTED / name).read_bytes()), CONTEXT)


# ---------------------------------------------------------------------------------------------
# FilterContext and Classification


def test_context_lower_cases_addresses_domains_and_blocklist() -> None:
    context = FilterContext(
        own_addresses=frozenset({"A@X.org"}),
        own_domains=frozenset({"X.Org"}),
        blocklist=frozenset({"@Spam.Example"}),
    )
    assert context.own_addresses == {"a@x.org"}
    assert context.own_domains == {"x.org"}
    assert context.blocklist == {"@spam.example"}


def test_context_refuses_an_invalid_tag_pattern() -> None:
    with pytest.raises(ValueError, match="tag_pattern"):
        FilterContext(own_addresses=frozenset(), own_domains=frozenset(), tag_pattern="[(")


def test_kind_only_moves_up() -> None:
    result = Classification()
    result.mark("spam", "a")
    result.mark("auto_reply", "b")
    assert result.kind == "spam"
    assert result.reasons == ["a", "b"]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        Classification().mark("weird", "x")


# ---------------------------------------------------------------------------------------------
# identify_sender and base_address


def test_sender_is_the_from_address() -> None:
    result = run(identify_sender, mail())
    assert (result.sender, result.sender_name) == ("jana@example.com", "Jana")


def test_sender_falls_back_to_reply_to() -> None:
    result = run(identify_sender, mail(from_address="", reply_to="r@example.com"))
    assert result.sender == "r@example.com"
    assert any("Reply-To" in reason for reason in result.reasons)


def test_sender_falls_back_to_the_sender_header() -> None:
    parsed = mail(("Sender", "Bot <Bot@Example.com>"), from_address="")
    assert run(identify_sender, parsed).sender == "bot@example.com"


def test_no_sender_leaves_it_empty() -> None:
    assert run(identify_sender, mail(from_address="")).sender == ""


@pytest.mark.parametrize(
    ("address", "base"),
    [
        ("jana+shop@example.com", "jana@example.com"),
        ("Jana+A+B@Example.com", "jana@example.com"),
        ("jana@example.com", "jana@example.com"),
        ("+only@example.com", "+only@example.com"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_base_address(address: str, base: str) -> None:
    assert base_address(address) == base


# ---------------------------------------------------------------------------------------------
# loop_detection


def test_mail_from_our_own_address_is_a_loop() -> None:
    assert run(loop_detection, mail(from_address="support@tempodesk.localhost")).kind == "loop"


def test_mail_from_our_own_address_with_a_plus_tag_is_a_loop() -> None:
    parsed = mail(from_address="support+x@tempodesk.localhost")
    assert run(loop_detection, parsed).kind == "loop"


def test_x_loop_naming_us_is_a_loop() -> None:
    assert run(loop_detection, mail(("X-Loop", "support@tempodesk.localhost"))).kind == "loop"


def test_x_loop_yes_is_a_loop() -> None:
    assert run(loop_detection, mail(("X-Loop", "yes"))).kind == "loop"


def test_x_loop_naming_someone_else_is_not_a_loop() -> None:
    assert run(loop_detection, mail(("X-Loop", "list@lists.example.org"))).kind == "mail"


@pytest.mark.parametrize("marker", [("Precedence", "bulk"), ("Auto-Submitted", "auto-generated")])
def test_our_own_notification_coming_back_is_a_loop(marker: tuple[str, str]) -> None:
    parsed = mail(marker, message_id="HD-2026-000001.2.1@tempodesk.localhost")
    assert run(loop_detection, parsed).kind == "loop"


def test_our_message_id_without_bulk_marker_is_not_a_loop() -> None:
    parsed = mail(message_id="HD-2026-000001.2.1@tempodesk.localhost")
    assert run(loop_detection, parsed).kind == "mail"


# ---------------------------------------------------------------------------------------------
# auto_response_check


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated", "Auto-Notified; x"])
def test_auto_submitted_other_than_no_is_an_auto_reply(value: str) -> None:
    result = run(auto_response_check, mail(("Auto-Submitted", value)))
    assert result.kind == "auto_reply"
    assert result.auto_submitted
    assert any("RFC 3834" in reason for reason in result.reasons)


def test_auto_submitted_no_is_ordinary_mail() -> None:
    result = run(auto_response_check, mail(("Auto-Submitted", "no")))
    assert (result.kind, result.auto_submitted) == ("mail", False)


@pytest.mark.parametrize("header", ["Precedence", "X-Precedence"])
@pytest.mark.parametrize("value", ["bulk", "junk", "list", "auto_reply", "BULK"])
def test_precedence_marks_an_auto_reply(header: str, value: str) -> None:
    result = run(auto_response_check, mail((header, value)))
    assert result.kind == "auto_reply"
    assert result.precedence == value.lower()


def test_precedence_first_class_is_ordinary_mail() -> None:
    result = run(auto_response_check, mail(("Precedence", "first-class")))
    assert (result.kind, result.precedence) == ("mail", "first-class")


@pytest.mark.parametrize(
    "header",
    [
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "anything"),
        ("X-Autoresponse", ""),
        ("X-AutoReply-From", "jana@example.com"),
        ("X-Mail-Autoreply", "x"),
        ("X-Autogenerated", "Reply"),
        ("X-AMAZON-MAIL-RELAY-TYPE", "notification"),
    ],
)
def test_responder_headers_mark_an_auto_reply(header: tuple[str, str]) -> None:
    result = run(auto_response_check, mail(header))
    assert result.kind == "auto_reply"
    assert any("osTicket" in reason for reason in result.reasons)


def test_x_autoreply_no_is_ordinary_mail() -> None:
    assert run(auto_response_check, mail(("X-Autoreply", "no"))).kind == "mail"


@pytest.mark.parametrize("value", ["All", "DR, RN", "OOF", "AutoReply", "NRN"])
def test_x_auto_response_suppress_marks_an_auto_reply(value: str) -> None:
    assert run(auto_response_check, mail(("X-Auto-Response-Suppress", value))).kind == (
        "auto_reply"
    )


def test_x_auto_response_suppress_none_is_ordinary_mail() -> None:
    assert run(auto_response_check, mail(("X-Auto-Response-Suppress", "None"))).kind == "mail"


@pytest.mark.parametrize(
    "header", [("List-Id", "<a.lists.example.org>"), ("List-Unsubscribe", "<mailto:x@y>")]
)
def test_mailing_list_is_auto_submitted_but_stays_mail(header: tuple[str, str]) -> None:
    result = run(auto_response_check, mail(header))
    assert (result.kind, result.auto_submitted) == ("mail", True)
    assert any("mailing list" in reason for reason in result.reasons)


def test_mailing_list_with_precedence_list_is_an_auto_reply() -> None:
    parsed = mail(("List-Id", "<a.lists.example.org>"), ("Precedence", "list"))
    assert run(auto_response_check, parsed).kind == "auto_reply"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Your request",
        "Automatic reply: [HD-2026-000001] Your request",
        "Abwesenheitsnotiz: Ihre Anfrage",
        "Automatická odpověď: Váš požadavek",
        "AW: Automatische Antwort: Ihre Anfrage",
        "Réponse automatique : votre demande",
    ],
)
def test_auto_reply_subjects_are_recognised_as_a_heuristic(subject: str) -> None:
    result = run(auto_response_check, mail(subject=subject))
    assert (result.kind, result.auto_submitted) == ("auto_reply", True)
    assert any("heuristic" in reason for reason in result.reasons)


@pytest.mark.parametrize("subject", ["Office chair broken", "Reply about my order", "Absent?"])
def test_ordinary_subjects_are_not_auto_replies(subject: str) -> None:
    assert run(auto_response_check, mail(subject=subject)).kind == "mail"


def test_null_return_path_is_auto_submitted_but_stays_mail() -> None:
    result = run(auto_response_check, mail(return_path=""))
    assert (result.kind, result.auto_submitted) == ("mail", True)


@pytest.mark.parametrize("sender", ["noreply@shop.example", "no-reply@x.example", "root@x.example"])
def test_automated_sender_is_auto_submitted_but_stays_mail(sender: str) -> None:
    result = run(auto_response_check, mail(from_address=sender))
    assert (result.kind, result.auto_submitted) == ("mail", True)


def test_ordinary_sender_is_not_auto_submitted() -> None:
    assert run(auto_response_check, mail()).auto_submitted is False


def test_read_receipt_report_is_an_auto_reply() -> None:
    parsed = mail(
        ("Content-Type", "multipart/report; report-type=disposition-notification; boundary=x")
    )
    assert run(auto_response_check, parsed).kind == "auto_reply"


# ---------------------------------------------------------------------------------------------
# bounce_detection


DSN = (
    b"Reporting-MTA: dns; mx.example.org\n\n"
    b"Final-Recipient: rfc822; Gone@Example.org\nAction: failed\nStatus: 5.1.1\n\n"
    b"Final-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.1\n\n"
    b"Original-Recipient: rfc822;orig@example.org\nAction: failed\nStatus: 5.0.0\n"
)


def status_part(data: bytes = DSN) -> Attachment:
    return Attachment("status.txt", "message/delivery-status", data)


def test_multipart_report_delivery_status_is_a_bounce() -> None:
    parsed = mail(("Content-Type", 'multipart/report; report-type="delivery-status"; boundary=b'))
    result = run(bounce_detection, parsed)
    assert result.kind == "bounce"
    assert result.auto_submitted


def test_delivery_status_part_is_a_bounce_with_the_failed_recipients() -> None:
    result = run(bounce_detection, mail(attachments=[status_part()]))
    assert result.kind == "bounce"
    assert result.bounced_recipients == ["gone@example.org", "orig@example.org"]


def test_x_failed_recipients_is_a_bounce() -> None:
    parsed = mail(("X-Failed-Recipients", "a@example.org, B@example.org"))
    result = run(bounce_detection, parsed)
    assert result.kind == "bounce"
    assert result.bounced_recipients == ["a@example.org", "b@example.org"]


def test_mailer_daemon_with_null_return_path_is_a_bounce() -> None:
    parsed = mail(from_address="mailer-daemon@mx.example.org", return_path="")
    assert run(bounce_detection, parsed).kind == "bounce"


def test_postmaster_with_a_bounce_subject_is_a_bounce_heuristic() -> None:
    parsed = mail(from_address="postmaster@example.org", subject="Undeliverable: Your request")
    result = run(bounce_detection, parsed)
    assert result.kind == "bounce"
    assert any("heuristic" in reason for reason in result.reasons)


def test_postmaster_writing_normally_is_not_a_bounce() -> None:
    parsed = mail(from_address="postmaster@example.org", subject="Please whitelist us")
    assert run(bounce_detection, parsed).kind == "mail"


def test_null_return_path_from_a_person_is_not_a_bounce() -> None:
    assert run(bounce_detection, mail(return_path="")).kind == "mail"


@pytest.mark.parametrize("content_type", ["text/rfc822-headers", "message/rfc822"])
def test_bounce_puts_the_original_message_id_first_in_references(content_type: str) -> None:
    original = Attachment(
        "original", content_type, b"From: s@x\nMessage-ID: <HD-1.2.3@tempodesk.localhost>\n\nb"
    )
    parsed = mail(attachments=[status_part(), original], in_reply_to=["other@x"])
    result = classify(parsed, CONTEXT)
    assert result.references[0] == "HD-1.2.3@tempodesk.localhost"
    assert result.references[1:] == ["other@x"]


def test_forwarded_message_id_is_not_a_reference_of_ordinary_mail() -> None:
    forwarded = Attachment("f.eml", "message/rfc822", b"Message-ID: <fwd@x>\n\nb")
    assert classify(mail(attachments=[forwarded]), CONTEXT).references == []


def test_bounce_outranks_auto_reply() -> None:
    parsed = mail(("Auto-Submitted", "auto-replied"), attachments=[status_part()])
    assert classify(parsed, CONTEXT).kind == "bounce"


# ---------------------------------------------------------------------------------------------
# spam_check


def test_x_spam_flag_yes_is_spam() -> None:
    assert run(spam_check, mail(("X-Spam-Flag", "YES"))).kind == "spam"


def test_x_spam_status_yes_is_spam() -> None:
    assert run(spam_check, mail(("X-Spam-Status", "Yes, score=6.1 required=5.0"))).kind == "spam"


def test_x_spam_status_no_with_a_low_score_is_mail() -> None:
    assert run(spam_check, mail(("X-Spam-Status", "No, score=1.2 required=5.0"))).kind == "mail"


def test_score_at_our_threshold_is_spam_even_if_upstream_said_no() -> None:
    result = run(spam_check, mail(("X-Spam-Status", "No, score=5.0 required=8.0")))
    assert result.kind == "spam"


def test_x_spam_score_below_threshold_is_mail() -> None:
    assert run(spam_check, mail(("X-Spam-Score", "4.9"))).kind == "mail"


def test_x_spam_score_threshold_is_configurable() -> None:
    context = FilterContext(
        own_addresses=frozenset(), own_domains=frozenset(), spam_score_threshold=4.0
    )
    assert run(spam_check, mail(("X-Spam-Score", "4.9")), context).kind == "spam"


def test_rspamd_result_score_is_read() -> None:
    assert run(spam_check, mail(("X-Spamd-Result", "default: False [7.50 / 15.00]"))).kind == (
        "spam"
    )


def blocked(*entries: str) -> FilterContext:
    return FilterContext(
        own_addresses=frozenset(), own_domains=frozenset(), blocklist=frozenset(entries)
    )


def test_blocklisted_address_is_spam() -> None:
    assert run(spam_check, mail(), blocked("Jana@example.com")).kind == "spam"


def test_blocklisted_base_address_catches_plus_tags() -> None:
    parsed = mail(from_address="jana+x@example.com")
    assert run(spam_check, parsed, blocked("jana@example.com")).kind == "spam"


def test_blocklisted_domain_covers_its_subdomains() -> None:
    parsed = mail(from_address="a@mail.spam.example")
    assert run(spam_check, parsed, blocked("@spam.example")).kind == "spam"


def test_blocklisted_domain_does_not_cover_lookalikes() -> None:
    parsed = mail(from_address="a@notspam.example")
    assert run(spam_check, parsed, blocked("@spam.example")).kind == "mail"


def test_a_single_heuristic_only_adds_a_reason() -> None:
    result = run(spam_check, mail(subject="HELP!!! MY ORDER DID NOT ARRIVE!!!"))
    assert result.kind == "mail"
    assert any("capitals" in reason for reason in result.reasons)


def test_link_only_body_alone_only_adds_a_reason() -> None:
    result = run(spam_check, mail(text="https://spam.example/claim"))
    assert result.kind == "mail"
    assert any("only a link" in reason for reason in result.reasons)


def test_heuristics_together_are_spam() -> None:
    parsed = mail(subject="YOU HAVE WON A PRIZE!!!", text="https://spam.example/claim")
    assert run(spam_check, parsed).kind == "spam"


# ---------------------------------------------------------------------------------------------
# followup_detection and order_detection


def test_ticket_numbers_come_from_the_subject_tag() -> None:
    parsed = mail(subject="Re: [HD-2026-000042] and [HD-2026-000043] [HD-2026-000042]")
    assert run(followup_detection, parsed).ticket_numbers == ["HD-2026-000042", "HD-2026-000043"]


def test_ticket_number_in_the_body_is_not_a_tag() -> None:
    parsed = mail(subject="Question", text="About [HD-2026-000042]")
    assert run(followup_detection, parsed).ticket_numbers == []


def test_tag_pattern_is_configurable_per_mailbox() -> None:
    context = FilterContext(
        own_addresses=frozenset(), own_domains=frozenset(), tag_pattern=r"Ticket#(\d+)"
    )
    assert run(followup_detection, mail(subject="RE: Ticket#4711"), context).ticket_numbers == [
        "4711"
    ]


def test_tag_pattern_without_a_group_uses_the_whole_match() -> None:
    context = FilterContext(
        own_addresses=frozenset(), own_domains=frozenset(), tag_pattern=r"T-\d+"
    )
    assert run(followup_detection, mail(subject="T-12"), context).ticket_numbers == ["T-12"]


def test_references_are_in_reply_to_first_then_references_newest_first() -> None:
    parsed = mail(in_reply_to=["c@x"], references=["a@x", "b@x", "c@x"])
    assert run(followup_detection, parsed).references == ["c@x", "b@x", "a@x"]


def test_order_numbers_come_from_subject_then_text() -> None:
    parsed = mail(subject="ORD-200 late", text="Also ORD-100 and ORD-200.")
    assert run(order_detection, parsed).order_numbers == ["ORD-200", "ORD-100"]


def test_at_most_five_order_numbers_are_kept() -> None:
    parsed = mail(text=" ".join(f"ORD-{n}" for n in range(100, 110)))
    assert run(order_detection, parsed).order_numbers == [f"ORD-{n}" for n in range(100, 105)]


def test_order_pattern_is_configurable() -> None:
    context = FilterContext(
        own_addresses=frozenset(), own_domains=frozenset(), order_pattern=r"#(\d{5})"
    )
    assert run(order_detection, mail(text="Order #12345"), context).order_numbers == ["12345"]


BAD = r"(a+)+$"


# ---------------------------------------------------------------------------------------------
# classify over crafted mail


def test_classify_runs_every_filter() -> None:
    parsed = mail(subject="[HD-2026-000042] ORD-123", in_reply_to=["a@x"])
    result = classify(parsed, CONTEXT)
    assert result.kind in KINDS
    assert (result.sender, result.ticket_numbers, result.order_numbers, result.references) == (
        "jana@example.com",
        ["HD-2026-000042"],
        ["ORD-123"],
        ["a@x"],
    )


def test_loop_outranks_spam() -> None:
    parsed = mail(("X-Spam-Flag", "YES"), from_address="support@tempodesk.localhost")
    assert classify(parsed, CONTEXT).kind == "loop"


def test_crafted_dsn_is_a_bounce_pointing_at_our_message() -> None:
    result = crafted("dsn-bounce.eml")
    assert result.kind == "bounce"
    assert result.bounced_recipients == ["gone@example.org"]
    assert result.references[0] == "HD-2026-000042.3.1@tempodesk.localhost"


def test_crafted_rfc3834_reply_is_an_auto_reply() -> None:
    result = crafted("rfc3834-auto-reply.eml")
    assert (result.kind, result.ticket_numbers) == ("auto_reply", ["HD-2026-000042"])


def test_crafted_outlook_out_of_office_without_markers_is_an_auto_reply() -> None:
    assert crafted("outlook-out-of-office.eml").kind == "auto_reply"


def test_crafted_czech_out_of_office_is_an_auto_reply() -> None:
    assert crafted("czech-auto-reply.eml").kind == "auto_reply"


def test_crafted_mailing_list_is_an_auto_reply_by_precedence() -> None:
    result = crafted("mailing-list.eml")
    assert (result.kind, result.auto_submitted, result.precedence) == ("auto_reply", True, "list")


def test_crafted_x_loop_is_a_loop() -> None:
    assert crafted("x-loop-own.eml").kind == "loop"


def test_crafted_returned_notification_is_a_loop() -> None:
    assert crafted("own-notification-returned.eml").kind == "loop"


def test_crafted_spam_is_spam() -> None:
    assert crafted("spam-flagged.eml").kind == "spam"


def test_crafted_reply_is_mail_with_its_ticket_and_references() -> None:
    result = crafted("reply-with-quote.eml")
    assert result.kind == "mail"
    assert not result.auto_submitted
    assert result.ticket_numbers == ["HD-2026-000046"]
    assert result.references == [
        "HD-2026-000046.2.1@tempodesk.localhost",
        "HD-2026-000040.1.1@tempodesk.localhost",
    ]


def test_crafted_reply_to_only_mail_is_attributed_to_reply_to() -> None:
    assert crafted("reply-to-only.eml").sender == "reply-only@example.com"


def test_two_messages_sharing_a_message_id_differ_in_sender_and_content() -> None:
    # R5 g: the Message-ID alone must not route Mallory's mail into Alice's ticket: the dedupe
    # key counts the sender in, and the content digest tells the messages apart too.
    first = (CRAFTED / "duplicate-message-id-a.eml").read_bytes()
    second = (CRAFTED / "duplicate-message-id-b.eml").read_bytes()
    a, b = parse(first), parse(second)
    assert a.message_id == b.message_id
    assert dedupe_key(first, a) != dedupe_key(second, b)
    assert content_digest(first) != content_digest(second)
    assert classify(a, CONTEXT).sender != classify(b, CONTEXT).sender


def test_an_order_pattern_that_backtracks_stops_within_its_time_limit() -> None:
    """An admin's pattern runs over customer text: ``(a+)+$`` against "aaaa…!" backtracks for
    longer than the universe has left, and used to hold the mailbox's poll with it."""
    context = FilterContext(own_addresses=frozenset(), own_domains=frozenset(), order_pattern=BAD)
    started = time.monotonic()
    result = run(order_detection, mail(subject="ORD-1", text="a" * 64 + "!"), context)
    assert time.monotonic() - started < ORDER_PATTERN_SECONDS + 1.5
    assert result.order_numbers == []
    assert f"order pattern: stopped after {ORDER_PATTERN_SECONDS:g} s" in result.reasons
    # The next message with an ordinary pattern is read as ever.
    assert run(order_detection, mail(text="ORD-123")).order_numbers == ["ORD-123"]


def test_an_order_pattern_that_backtracks_is_refused_at_save() -> None:
    assert pattern_problem(BAD) == (
        "The pattern takes too long on some text (nested repeats such as (a+)+ backtrack "
        "without end); write it without them."
    )
    assert pattern_problem(r"\b(ORD-\d{3,})\b") is None
    assert pattern_problem(r"#(\d{5})") is None
