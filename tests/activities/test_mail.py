"""Sending replies through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import uuid
from html import escape
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import smtp
from activities.mail import MailActivities
from tempodesk.app.devserver import free_port
from tempodesk.contracts import SendMailInput
from tempodesk.core.db import transaction
from tempodesk.core.models import Message, SmtpAlert
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


# ------------------------------------------------------------------ configuration problems


def smtp_alerts(stack: Stack) -> dict[str, str]:
    """What ops see: /readyz's count (loopback, ops tokens), each answer on the admin page."""
    with stack.sessions() as session:
        alerts = {a.server: a.error for a in session.scalars(select(SmtpAlert))}
    assert stack.client().get("/readyz").get_json()["failing_smtp_servers"] == len(alerts)
    page = stack.login("admin").get("/admin/mailboxes").get_data(as_text=True)
    for server, error in alerts.items():
        assert f"<code>{server}</code>" in page and escape(error) in page
    return alerts


def test_a_refused_login_is_retried_with_an_alert_until_the_login_works(
    stack: Stack, sink: MailSink
) -> None:
    number, message_id = stored_reply(stack)
    settings = stack.settings.model_copy(
        update={"smtp_username": "desk", "smtp_password": "old-password"}
    )
    mail = MailActivities(stack.sessions, settings)
    sink.refuse_login = True
    with pytest.raises(ApplicationError) as caught:
        mail.send_mail(send_input(number, message_id))
    # Wrong credentials fail every mail alike: a configuration problem, not this mail's.
    assert not caught.value.non_retryable and caught.value.type == "SmtpConfiguration"
    assert "535" in caught.value.message
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    assert "535" in smtp_alerts(stack)[server]
    sink.refuse_login = False  # the admin fixed the password
    assert mail.send_mail(send_input(number, message_id)).status == "sent"
    assert server not in smtp_alerts(stack)
    assert len(sink.caught) == 1


def test_a_server_refusing_the_connection_is_retried_with_an_alert(
    stack: Stack, sink: MailSink
) -> None:
    number, message_id = stored_reply(stack)
    sink.refuse_connections = True
    mail = MailActivities(stack.sessions, stack.settings)
    with pytest.raises(ApplicationError) as caught:
        mail.send_mail(send_input(number, message_id))
    assert not caught.value.non_retryable and caught.value.type == "SmtpConfiguration"
    assert "554" in caught.value.message
    server = f"{stack.settings.smtp_host}:{stack.settings.smtp_port}"
    assert "554" in smtp_alerts(stack)[server]
    sink.refuse_connections = False
    assert mail.send_mail(send_input(number, message_id)).status == "sent"
    assert server not in smtp_alerts(stack)


# ------------------------------------------------------------------ internationalised addresses


def test_a_non_ascii_recipient_is_sent_with_smtputf8_when_the_server_offers_it(
    stack: Stack, sink: MailSink
) -> None:
    number, message_id = stored_reply(stack)
    result = MailActivities(stack.sessions, stack.settings).send_mail(
        send_input(number, message_id, to="jiří@example.cz")
    )
    assert result.status == "sent"
    [caught] = sink.wait_for(1)
    assert caught.recipients == ["jiří@example.cz"]
    assert caught.message["To"] == "jiří@example.cz"


def test_a_non_ascii_recipient_fails_at_once_when_the_server_has_no_smtputf8(
    stack: Stack, sink: MailSink
) -> None:
    number, message_id = stored_reply(stack)
    sink.smtputf8 = False
    with pytest.raises(ApplicationError) as caught:
        MailActivities(stack.sessions, stack.settings).send_mail(
            send_input(number, message_id, to="jiří@example.cz")
        )
    assert caught.value.non_retryable and caught.value.type == "PermanentDeliveryFailure"
    assert "SMTPUTF8" in caught.value.message and "jiří@example.cz" in caught.value.message
    assert sink.caught == []


def test_a_slow_server_conversation_keeps_heartbeating(
    stack: Stack, sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(smtp, "BEAT_EVERY", 0.2)
    number, message_id = stored_reply(stack)
    sink.delay = 1.5  # a live but slow server: the attempt must not look dead meanwhile
    env = ActivityEnvironment()
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    mail = MailActivities(stack.sessions, stack.settings)
    assert env.run(mail.send_mail, send_input(number, message_id)).status == "sent"
    assert len(beats) >= 5
