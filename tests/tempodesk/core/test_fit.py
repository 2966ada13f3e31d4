"""Values fitted to their columns, the models' lengths being the one source of the limits."""

from __future__ import annotations

from tempodesk.core.db import column_length, fit, fit_id
from tempodesk.core.models import Attachment, InboundMessage, Message


def test_a_column_length_is_read_from_the_model_either_way_it_is_named() -> None:
    assert column_length(Attachment.content_id) == 255
    assert column_length(Attachment.__table__.c.content_id) == 255
    assert column_length(InboundMessage.reason) is None  # Text: no limit


def test_text_is_cut_to_its_column_and_left_alone_when_it_fits() -> None:
    assert fit(Message.subject, "short") == "short"
    assert fit(Message.subject, "x" * 301) == "x" * 300
    assert fit(InboundMessage.reason, "y" * 10_000) == "y" * 10_000


def test_an_over_long_id_keeps_its_head_and_stays_unique_and_stable() -> None:
    first = "a" * 300 + "@one.example"
    second = "a" * 300 + "@two.example"
    fitted = fit_id(Message.smtp_message_id, first)
    assert len(fitted) == 255 and fitted.startswith("a" * 100)
    assert fitted == fit_id(Message.smtp_message_id, first)  # the same id, the same value
    assert fitted != fit_id(Message.smtp_message_id, second)  # same head, still apart
    assert fit_id(Message.smtp_message_id, "<short@x>") == "<short@x>"
