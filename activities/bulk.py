"""Bulk messages' activities (on the mail queue): recipients written, the pending ones read,
one recipient sent (consent checked again first; a row already sent is not sent again)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import smtp
from tempodesk.contracts.bulk import (
    ACT_BULK_FINISH,
    ACT_BULK_PENDING,
    ACT_BULK_PREPARE,
    ACT_BULK_SEND,
    BulkPendingResult,
    BulkRunInput,
    BulkSendInput,
    BulkSendResult,
)
from tempodesk.core.db import transaction
from tempodesk.core.models import BulkMessage, BulkRecipient, Contact
from tempodesk.core.settings import Settings
from tempodesk.messaging import bulk, templates
from tempodesk.messaging.sandbox import TemplateProblem
from tempodesk.people import unsubscribe


class BulkActivities:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings):
        self.sessions = sessions
        self.settings = settings

    @activity.defn(name=ACT_BULK_PREPARE)
    def prepare(self, input: BulkRunInput) -> None:
        """A row per consenting contact of the segment (once, however often it runs)."""
        with transaction(self.sessions) as session:
            bulk.add_recipients(session, input.bulk_id)

    @activity.defn(name=ACT_BULK_PENDING)
    def pending(self, input: BulkRunInput) -> BulkPendingResult:
        with self.sessions() as session:
            return BulkPendingResult(bulk.pending(session, input.bulk_id))

    @activity.defn(name=ACT_BULK_FINISH)
    def finish(self, input: BulkRunInput) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                update(BulkMessage)
                .where(BulkMessage.id == input.bulk_id)
                .values(finished_at=datetime.now(UTC))
            )

    @activity.defn(name=ACT_BULK_SEND)
    def send(self, input: BulkSendInput) -> BulkSendResult:
        """Send one recipient their copy; skipped if they withdrew consent meanwhile."""
        with self.sessions() as session:
            row = session.get(BulkRecipient, input.recipient_id)
            if row is None or row.status != "pending":
                return BulkSendResult("done")
            contact = session.get(Contact, row.contact_id)
            message = session.get(BulkMessage, row.bulk_id)
            template = templates.get(session, message.template) if message else None
            if contact is None or not contact.email or template is None:
                return self._mark(input.recipient_id, "skipped", "no contact or template")
            if not contact.non_essential_mail or contact.bounced_at is not None:
                return self._mark(input.recipient_id, "skipped", "no consent (or bounced)")
            link = unsubscribe.link(
                self.settings.session_secret(), self.settings.public_url, contact.email
            )
            context = {
                "customer": {"name": contact.name, "email": contact.email, "phone": contact.phone},
                "helpdesk": {"name": self.settings.mail_from_name},
                "unsubscribe_url": link,
            }
            try:
                subject, body = templates.render_template(
                    template, contact.language, context, self.settings.default_language
                )
            except TemplateProblem as exc:
                return self._mark(input.recipient_id, "failed", str(exc)[:500])
            try:
                mail = self._mail(contact.email, subject, f"{body}\n\n-- \n{link}\n", row)
            except ValueError as exc:  # a CR/LF in an address or the subject
                return self._mark(input.recipient_id, "failed", f"Refused: {exc}"[:500])
        try:
            detail = smtp.send(
                self.sessions,
                mail,
                contact.email,
                self._sender(),
                self.settings.smtp_timeout_seconds,
            )
        except ApplicationError as exc:
            if not exc.non_retryable:
                raise  # the server is away: the workflow retries this recipient
            return self._mark(input.recipient_id, "failed", exc.message[:500])
        return self._mark(input.recipient_id, "sent", detail[:500])

    def _mail(self, to: str, subject: str, body: str, row: BulkRecipient) -> EmailMessage:
        settings = self.settings
        mail = EmailMessage()
        mail["From"] = formataddr((settings.mail_from_name, settings.mail_from))
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        # The same recipient's copy always has the same Message-ID (a retry after the server
        # accepted it is recognisable as the same message).
        mail["Message-ID"] = f"<bulk.{row.bulk_id}.{row.id}@{settings.message_id_domain}>"
        mail["Auto-Submitted"] = "auto-generated"
        mail["Precedence"] = "bulk"
        for name, value in unsubscribe.headers(
            settings.session_secret(), settings.public_url, to
        ).items():
            mail[name] = value
        mail.set_content(body)
        return mail

    def _sender(self) -> smtp.Sender:
        settings = self.settings
        return smtp.Sender(
            address=settings.mail_from,
            name=settings.mail_from_name,
            host=settings.smtp_host,
            port=settings.smtp_port,
            security="starttls" if settings.smtp_starttls else "none",
            username=settings.smtp_username,
            password=settings.smtp_password,
        )

    def _mark(self, recipient_id: int, status: str, detail: str) -> BulkSendResult:
        values: dict[str, object] = {"status": status, "detail": detail}
        if status == "sent":
            values["sent_at"] = datetime.now(UTC)
        with transaction(self.sessions) as session:
            session.execute(
                update(BulkRecipient).where(BulkRecipient.id == recipient_id).values(**values)
            )
        return BulkSendResult(status)
