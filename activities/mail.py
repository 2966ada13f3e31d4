"""Outbound mail: a reply leaves by SMTP once, under a Message-ID derived from ticket + event.

Runs on its own task queue (``MAIL_TASK_QUEUE``) so a slow SMTP server never delays other
work. A retried attempt sends the very same message (same Message-ID), so the one window
that SMTP cannot close (the server said 250, the worker died before reporting) yields a
recognisable duplicate, never a different message.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from tempodesk.contracts import ACT_SEND_MAIL, SendMailInput, SendMailResult
from tempodesk.db import transaction
from tempodesk.models import Message
from tempodesk.settings import Settings


def message_id_for(ticket_number: str, event_seq: int, message_id: int, domain: str) -> str:
    """The RFC 5322 Message-ID of a ticket's outbound message: stable across retries."""
    return f"<{ticket_number}.{event_seq}.{message_id}@{domain}>"


class MailActivities:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings):
        self.sessions = session_factory
        self.settings = settings

    @activity.defn(name=ACT_SEND_MAIL)
    def send_mail(self, input: SendMailInput) -> SendMailResult:
        """Send one stored message to the customer by SMTP."""
        settings = self.settings
        smtp_id = message_id_for(
            input.ticket_number, input.event_seq, input.message_id, settings.message_id_domain
        )
        with self.sessions() as session:
            message = session.get(Message, input.message_id)
            if message is None or message.ticket_number != input.ticket_number:
                raise ApplicationError(
                    "The message to send is not stored for this ticket.",
                    type="PermanentDeliveryFailure",
                    non_retryable=True,
                )
            if message.delivery_status == "sent" and message.smtp_message_id == smtp_id:
                return SendMailResult("sent", smtp_id, "already sent")
            body = message.body

        mail = EmailMessage()
        mail["From"] = formataddr((settings.mail_from_name, settings.mail_from))
        try:
            mail["To"] = input.to
            mail["Subject"] = input.subject
        except ValueError as exc:  # a CR/LF smuggled into a header
            raise ApplicationError(
                f"Refused to send: {exc}", type="PermanentDeliveryFailure", non_retryable=True
            ) from None
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = smtp_id
        if input.in_reply_to:
            mail["In-Reply-To"] = input.in_reply_to
            mail["References"] = input.in_reply_to
        mail["X-Tempodesk-Ticket"] = input.ticket_number
        mail.set_content(body)

        detail = self._send(mail, input.to)
        with transaction(self.sessions) as session:
            session.execute(
                update(Message)
                .where(Message.id == input.message_id)
                .values(delivery_status="sent", smtp_message_id=smtp_id, delivery_detail=detail)
            )
        return SendMailResult("sent", smtp_id, detail)

    def _send(self, mail: EmailMessage, to: str) -> str:
        settings = self.settings
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
            ) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(mail, from_addr=settings.mail_from, to_addrs=[to])
                return f"accepted by {settings.smtp_host}:{settings.smtp_port}"
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise self._failure(code, reply) from None
        except smtplib.SMTPResponseException as exc:
            raise self._failure(exc.smtp_code, exc.smtp_error) from None
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            # Connection refused, timeouts, dropped connections: retried with backoff.
            raise ApplicationError(
                f"SMTP server unavailable: {exc}", type="SmtpUnavailable"
            ) from None

    @staticmethod
    def _failure(code: int, reply: bytes | str) -> ApplicationError:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        message = f"SMTP {code}: {text}"
        if 500 <= code < 600:
            return ApplicationError(message, type="PermanentDeliveryFailure", non_retryable=True)
        return ApplicationError(message, type="SmtpTemporaryFailure")
