"""Sending replies through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import uuid

import pytest
from temporalio.exceptions import ApplicationError

from activities.mail import MailActivities
from tempodesk.app.devserver import free_port
from tempodesk.contracts import SendMailInput
from tempodesk.core.db import transaction
from tempodesk.core.models import Message
from tempodesk.mail.sink import MailSink
from tests.helpers import Stack


def stored_reply(stack: Stack, body: str = "Here is your answer.") -> tuple[str, int]:
    number = f"M-{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        message = Message(ticket_number=number, body=body, author="agent1")
        session.add(message)
        session.flush()
        return number, message.id


def send_input(
    number: str, message_id: int, to: str = "jana@example.com", **extra: str
) -> SendMailInput:
    values = {"subject": f"[{number}] Re: kettle", "in_reply_to": "<orig@example.com>"}
    values.update(extra)
    return SendMailInput(number, 4, message_id, to, **values)  # type: ignore[arg-type]


def test_reply_is_sent_with_a_message_id_derived_from_ticket_and_event(
    stack: Stack, sink: MailSink
) -> None:
    number, message_id = stored_reply(stack)
    result = MailActivities(stack.sessions, stack.settings).send_mail(
        send_input(number, message_id)
    )
    expected = f"<{number}.4.{message_id}@{stack.settings.message_id_domain}>"
    assert result.status == "sent" and result.smtp_message_id == expected
    [mail] = sink.wait_for(1)
    assert mail.message_id == expected
    assert mail.recipients == ["jana@example.com"]
    assert mail.message["In-Reply-To"] == "<orig@example.com>"
    assert mail.message["X-Tempodesk-Ticket"] == number
    assert mail.text().strip() == "Here is your answer."
    with stack.sessions() as session:
        row = session.get(Message, message_id)
        assert row is not None and row.delivery_status == "sent" and row.smtp_message_id == expected


def test_a_retried_send_after_success_does_not_send_again(stack: Stack, sink: MailSink) -> None:
    number, message_id = stored_reply(stack)
    mail = MailActivities(stack.sessions, stack.settings)
    mail.send_mail(send_input(number, message_id))
    again = mail.send_mail(send_input(number, message_id))
    assert again.detail == "already sent"
    assert len(sink.caught) == 1


def test_rejected_recipient_is_a_permanent_failure(stack: Stack, sink: MailSink) -> None:
    number, message_id = stored_reply(stack)
    sink.reject.add("gone@example.com")
    with pytest.raises(ApplicationError) as caught:
        MailActivities(stack.sessions, stack.settings).send_mail(
            send_input(number, message_id, to="gone@example.com")
        )
    assert caught.value.non_retryable and caught.value.type == "PermanentDeliveryFailure"
    assert "550" in caught.value.message


def test_temporary_smtp_failure_is_retried(stack: Stack, sink: MailSink) -> None:
    number, message_id = stored_reply(stack)
    sink.unavailable = True
    with pytest.raises(ApplicationError) as caught:
        MailActivities(stack.sessions, stack.settings).send_mail(send_input(number, message_id))
    assert not caught.value.non_retryable and caught.value.type == "SmtpTemporaryFailure"
    with stack.sessions() as session:
        assert session.get(Message, message_id).delivery_status is None  # type: ignore[union-attr]


def test_unreachable_smtp_server_is_retried(stack: Stack) -> None:
    number, message_id = stored_reply(stack)
    settings = stack.settings.model_copy(update={"smtp_port": free_port()})
    with pytest.raises(ApplicationError) as caught:
        MailActivities(stack.sessions, settings).send_mail(send_input(number, message_id))
    assert not caught.value.non_retryable and caught.value.type == "SmtpUnavailable"


def test_header_injection_in_a_subject_is_refused(stack: Stack, sink: MailSink) -> None:
    number, message_id = stored_reply(stack)
    with pytest.raises(ApplicationError) as caught:
        MailActivities(stack.sessions, stack.settings).send_mail(
            send_input(number, message_id, subject="hi\r\nBcc: everyone@example.com")
        )
    assert caught.value.non_retryable
    assert sink.caught == []
