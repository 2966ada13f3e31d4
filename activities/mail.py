"""Outbound mail: a reply leaves by SMTP once, under a Message-ID derived from ticket + event.

Runs on its own task queue (``MAIL_TASK_QUEUE``) so a slow SMTP server never delays other
work. A retried attempt sends the very same message (same Message-ID), so the one window
that SMTP cannot close (the server said 250, the worker died before reporting) yields a
recognisable duplicate, never a different message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from html import escape
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import smtp
from activities.smtp import Sender
from statemachines.triggers import for_recipient
from tempodesk.contracts import (
    ACT_PREPARE_TEMPLATE,
    ACT_SEND_MAIL,
    ACT_SEND_NOTICE,
    ACT_SEND_TEMPLATE,
    Notice,
    PreparedTemplate,
    SendMailInput,
    SendMailResult,
    SendNoticeInput,
    SendTemplateInput,
    SendTemplateResult,
    TemplateDelivery,
)
from tempodesk.core.db import transaction, upsert
from tempodesk.core.ids import notice_message_id, reply_message_id, template_key
from tempodesk.core.models import (
    AcknowledgementClaim,
    AutoMailLog,
    Contact,
    Follow,
    Group,
    Message,
    Ticket,
    User,
    utcnow,
)
from tempodesk.core.settings import Settings
from tempodesk.mail import mailboxes
from tempodesk.messaging import templates
from tempodesk.messaging.sandbox import TemplateProblem
from tempodesk.people import unsubscribe
from tempodesk.people.addresses import e164, is_automated_address, is_mobile
from tempodesk.telephony.sms_text import clean_body
from tempodesk.tickets import ratings


@dataclass
class Recipient:
    address: str
    language: str


# Automatic mail to one address (RFC 3834; Zammad's loop protection): per ticket at most 10 in
# 10 minutes and 25 in an hour; at most one auto-reply per address per ``auto_reply_hours``.
AUTO_CAPS = ((timedelta(minutes=10), 10), (timedelta(hours=1), 25))


def _heartbeat(detail: str) -> None:
    """Tell Temporal the activity lives (a killed worker's attempt is retried within the
    heartbeat timeout, not after the whole start-to-close); nothing outside an activity."""
    if activity.in_activity():
        activity.heartbeat(detail)


def html_from_text(text: str) -> str:
    """The HTML alternative of a plain-text reply: escaped, paragraphs and line breaks kept."""
    paragraphs = text.replace("\r\n", "\n").split("\n\n")
    return "".join(
        "<p>" + "<br>\n".join(escape(line) for line in p.split("\n")) + "</p>\n" for p in paragraphs
    )


def _refused(session: Session, ticket: Ticket) -> bool:
    """Whether the ticket's customer refused non-essential mail (in the portal's profile)."""
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    if contact is None and ticket.customer_email:
        contact = session.scalar(select(Contact).where(Contact.email == ticket.customer_email))
    return contact is not None and not contact.non_essential_mail


def _bracketed(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


class MailActivities:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings):
        self.sessions = session_factory
        self.settings = settings

    @activity.defn(name=ACT_SEND_MAIL)
    def send_mail(self, input: SendMailInput) -> SendMailResult:
        """Send one stored message to the customer by SMTP."""
        settings = self.settings
        smtp_id = reply_message_id(
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
            sender = self._sender(session, input.ticket_number)
            references = self._references(session, input.ticket_number, input.in_reply_to)
            attachments = [(a.filename, a.content_type, a.data) for a in message.attachments]
            language = _customer_language(session, input.ticket_number)

        bcc, signature = for_recipient(input.outgoing, language)
        if signature or sender.signature:  # an outgoing trigger's takes the mailbox's place
            body = f"{body.rstrip()}\n\n-- \n{signature or sender.signature}"
        mail = EmailMessage()
        mail["From"] = formataddr((sender.name, sender.address))
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
            mail["In-Reply-To"] = _bracketed(input.in_reply_to)
        if references:
            mail["References"] = " ".join(references)
        mail["X-Tempodesk-Ticket"] = input.ticket_number
        mail.set_content(body)
        mail.add_alternative(html_from_text(body), subtype="html")
        for filename, content_type, data in attachments:
            maintype, _, subtype = content_type.partition("/")
            mail.add_attachment(
                data,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=filename,
            )

        detail = self._send(mail, input.to, sender, bcc)
        with transaction(self.sessions) as session:
            session.execute(
                update(Message)
                .where(Message.id == input.message_id)
                .values(delivery_status="sent", smtp_message_id=smtp_id, delivery_detail=detail)
            )
        return SendMailResult("sent", smtp_id, detail)

    @activity.defn(name=ACT_SEND_TEMPLATE)
    def send_template(self, input: SendTemplateInput) -> SendTemplateResult:
        """Render a template for each recipient of a role and send it once to each, in one
        activity: how runs started before ``prepare_template`` and ``send_notice`` do it."""
        prepared = self.prepare_template(input)
        if not prepared.notices:
            return SendTemplateResult(skipped=prepared.skipped)
        return SendTemplateResult(
            deliveries=[self.send_notice(SendNoticeInput(input, n)) for n in prepared.notices]
        )

    @activity.defn(name=ACT_PREPARE_TEMPLATE)
    def prepare_template(self, input: SendTemplateInput) -> PreparedTemplate:
        """Resolve a role's recipients, render the template for each in their language and
        store each copy as a message (once per recipient); send nothing."""
        with self.sessions() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == input.ticket_number))
            template = templates.get(session, input.template)
            if ticket is None or template is None:
                return PreparedTemplate(skipped=f"no ticket or no template '{input.template}'")
            if input.to_role == "customer" and not template.essential and _refused(session, ticket):
                return PreparedTemplate(skipped="the customer refused non-essential mail")
            if template.channel == "sms":
                recipients = self._sms_recipients(session, ticket, input.to_role)
            else:
                recipients = self._recipients(session, ticket, input.to_role, input.actor)
            if not recipients:
                return PreparedTemplate(skipped=f"nobody to send to as {input.to_role}")
            context = self._context(session, ticket, input)
            rendered = {}
            for recipient in recipients:
                _heartbeat(f"rendering for {recipient.address}")
                try:
                    rendered[recipient.address] = templates.render_template(
                        template, recipient.language, context, self.settings.default_language
                    )
                except TemplateProblem as exc:
                    return PreparedTemplate(skipped=f"the template failed: {exc}")
            if input.to_role == "customer":
                recipients = self._within_caps(session, ticket.number, recipients, input)
                if not recipients:
                    return PreparedTemplate(skipped="automatic mail cap reached for the customer")
        notices = []
        for recipient in recipients:
            subject, text = rendered[recipient.address]
            bcc: list[str] = []
            if template.channel == "sms":  # a body of data: line ends and controls cleaned
                subject, text = "", clean_body(text)
            else:  # outgoing triggers: BCC and a signature in the recipient's language
                bcc, signature = for_recipient(input.outgoing, recipient.language)
                text = f"{text.rstrip()}\n\n-- \n{signature}" if signature else text
            message_id = self._store_notice(
                input, recipient.address, subject, text, template.channel
            )
            notices.append(Notice(recipient.address, message_id, template.channel, bcc))
        return PreparedTemplate(notices)

    def _context(self, session: Session, ticket: Ticket, input: SendTemplateInput) -> Any:
        agent = session.scalar(select(User).where(User.username == input.actor))
        body = ""
        if input.message_id:
            stored = session.get(Message, input.message_id)
            body = stored.body if stored and stored.ticket_number == ticket.number else ""
        return templates.ticket_context(
            session,
            ticket,
            public_url=self.settings.public_url,
            helpdesk_name=self.settings.mail_from_name,
            agent=agent,
            action={"id": input.action_id, "label": input.action_label, "fields": input.fields},
            message_body=body,
            rating=ratings.template_rating(
                self.settings.session_secret(), self.settings.public_url, ticket
            ),
            unsubscribe_url=unsubscribe.link(
                self.settings.session_secret(), self.settings.public_url, ticket.customer_email
            )
            if ticket.customer_email
            else "",
        )

    @activity.defn(name=ACT_SEND_NOTICE)
    def send_notice(self, input: SendNoticeInput) -> TemplateDelivery:
        """Send one stored copy of a template to its one recipient: a retry never reaches
        anyone else, and a copy already sent is not sent again."""
        template, notice = input.template, input.notice
        _heartbeat(f"sending to {notice.recipient}")
        if notice.channel == "sms":
            return TemplateDelivery(
                notice.recipient, notice.message_id, "failed", "", "No SMS gateway is configured."
            )
        with self.sessions() as session:
            sender = self._sender(session, template.ticket_number)
        delivery = self._send_notice(
            template, notice.recipient, notice.message_id, sender, notice.bcc
        )
        _heartbeat(f"{delivery.status}: {notice.recipient}")
        if delivery.status == "sent" and template.to_role == "customer":
            if delivery.detail != "already sent":
                self._log_auto_mail(template, notice.recipient)
        elif template.auto_submitted == "auto-replied" and template.to_role == "customer":
            self._release_acknowledgement(_claim_key(template), notice.recipient)
        return delivery

    def _within_caps(
        self, session: Session, number: str, recipients: list[Recipient], input: SendTemplateInput
    ) -> list[Recipient]:
        """Leave out customers who got too much automatic mail already (loops die by themselves),
        and, for an acknowledgement, anyone another ticket acknowledged within the day."""
        now = utcnow()
        kept = []
        for recipient in recipients:
            address = recipient.address.lower()
            counts = session.execute(  # every window's count in one query
                select(*(func.count().filter(AutoMailLog.sent_at > now - w) for w, _ in AUTO_CAPS))
                .where(AutoMailLog.recipient == address)
                .where(AutoMailLog.ticket_number == number)
                .where(AutoMailLog.sent_at > now - max(w for w, _ in AUTO_CAPS))
            ).one()
            if any((count or 0) >= cap for count, (_, cap) in zip(counts, AUTO_CAPS, strict=True)):
                continue
            if input.auto_submitted == "auto-replied" and not self._claim_acknowledgement(
                _claim_key(input), address
            ):
                continue
            kept.append(recipient)
        return kept

    def _claim_acknowledgement(self, key: str, address: str) -> bool:
        """Take the address's auto-reply (an acknowledgement, a trigger's answer) for the
        window (``auto_reply_hours``), in one statement: two tickets of one customer opened at
        the same moment never both answer (a check, then a send, then a log would let both
        through). ``key`` is the ticket's (an acknowledgement) or the ticket's event's (a
        trigger's): a retried activity finds its own claim."""
        now = utcnow()
        window = timedelta(hours=self.settings.auto_reply_hours)
        with transaction(self.sessions) as session:
            upsert(
                session,
                AcknowledgementClaim,
                {"recipient": address, "ticket_number": key, "claimed_at": now},
                on=["recipient"],
                update=["ticket_number", "claimed_at"],
                where=lambda _new: AcknowledgementClaim.claimed_at < now - window,
            )
            holder = session.scalar(
                select(AcknowledgementClaim.ticket_number).where(
                    AcknowledgementClaim.recipient == address
                )
            )
        return holder == key

    def _release_acknowledgement(self, key: str, address: str) -> None:
        """An acknowledgement that did not go out leaves the day to the next ticket."""
        with transaction(self.sessions) as session:
            session.execute(
                delete(AcknowledgementClaim)
                .where(AcknowledgementClaim.recipient == address.lower())
                .where(AcknowledgementClaim.ticket_number == key)
            )

    def _log_auto_mail(self, input: SendTemplateInput, address: str) -> None:
        with transaction(self.sessions) as session:
            session.add(
                AutoMailLog(
                    recipient=address.lower(),
                    ticket_number=input.ticket_number,
                    kind=input.auto_submitted,
                )
            )

    def _sender(self, session: Session, number: str) -> Sender:
        settings = self.settings
        default = Sender(
            address=settings.mail_from,
            name=settings.mail_from_name,
            host=settings.smtp_host,
            port=settings.smtp_port,
            security="starttls" if settings.smtp_starttls else "none",
            username=settings.smtp_username,
            password=settings.smtp_password,
        )
        mailbox_name = session.scalar(select(Ticket.mailbox).where(Ticket.number == number))
        if not mailbox_name:
            return default
        box = mailboxes.row(session, mailbox_name)
        channel = mailboxes.channel(session, mailbox_name)
        if channel is None:
            return default
        sender = Sender(
            address=channel.address or default.address,
            name=(box.from_name if box else "") or default.name,
            signature=box.signature if box else "",
            host=default.host,
            port=default.port,
            security=default.security,
            username=default.username,
            password=default.password,
        )
        if (
            box is not None
            and box.smtp_host
            and not mailboxes.refused_host(box.smtp_host, settings)
        ):
            sender.host, sender.port, sender.security = (
                box.smtp_host,
                box.smtp_port,
                box.smtp_security,
            )
            sender.username = box.smtp_username
            sender.password = mailboxes.smtp_password(box, settings)
        return sender

    @staticmethod
    def _references(session: Session, number: str, in_reply_to: str) -> list[str]:
        """The thread so far: Message-IDs of the ticket's earlier mail, oldest first (bounded)."""
        ids = list(
            session.scalars(
                select(Message.smtp_message_id)
                .where(Message.ticket_number == number)
                .where(Message.smtp_message_id.is_not(None))
                .where(Message.attached.is_(True))
                .order_by(Message.id)
            )
        )
        chain = [i for i in ids if i]
        if in_reply_to and in_reply_to not in chain:
            chain.append(in_reply_to)
        return [_bracketed(i) for i in chain[-10:]]

    def _sms_recipients(self, session: Session, ticket: Ticket, role: str) -> list[Recipient]:
        """An SMS template reaches the customer's mobile number (E.164); agents have none."""
        contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
        if role != "customer" or contact is None or not contact.phone:
            return []
        number = e164(contact.phone, self.settings.phone_region)
        if not number or not is_mobile(number):
            return []
        return [Recipient(number, contact.language)]

    def _recipients(
        self, session: Session, ticket: Ticket, role: str, actor: str
    ) -> list[Recipient]:
        """Who a role means for this ticket; automatic addresses and the actor are left out."""
        default = self.settings.default_language
        found: list[Recipient] = []
        if role == "customer":
            contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
            address = (contact.email if contact else None) or ticket.customer_email
            if address:
                found.append(Recipient(address, contact.language if contact else default))
        else:
            usernames: list[str] = []
            if role == "assignee" and ticket.assignee:
                usernames = [ticket.assignee]
            elif role in ("group", "supervisor") and ticket.group_name:
                group = session.scalar(select(Group).where(Group.name == ticket.group_name))
                if group is not None and role == "group":
                    usernames = [u.username for u in group.members]
                elif group is not None and group.supervisor:
                    usernames = [group.supervisor]
            elif role == "followers":
                usernames = list(
                    session.scalars(
                        select(Follow.username).where(Follow.ticket_number == ticket.number)
                    )
                )
            users = session.scalars(
                select(User)
                .where(User.username.in_(usernames))
                .where(User.is_active.is_(True))
                .order_by(User.username)
            )
            found = [
                Recipient(u.email, u.language)
                for u in users
                if u.email and u.username != actor  # nobody is told about their own action
            ]
        seen: set[str] = set()
        result = []
        for recipient in found:
            key = recipient.address.lower()
            if key not in seen and not is_automated_address(key):
                seen.add(key)
                result.append(recipient)
        return result

    def _store_notice(
        self, input: SendTemplateInput, address: str, subject: str, text: str, channel: str
    ) -> int:
        """The rendered mail as a message on the ticket, once per recipient (idempotent)."""
        key = template_key(input.ticket_number, input.event_seq, input.effect_index, address)
        with transaction(self.sessions) as session:
            existing = session.scalar(select(Message).where(Message.idempotency_key == key))
            if existing is not None:
                return existing.id
            message = Message(
                ticket_number=input.ticket_number,
                idempotency_key=key,
                channel=channel,
                sender_role="system",
                internal=input.to_role != "customer",
                author="system",
                subject=subject,
                body=text,
                recipient=address,
            )
            session.add(message)
            session.flush()
            return message.id

    def _send_notice(
        self,
        input: SendTemplateInput,
        address: str,
        message_id: int,
        sender: Sender,
        bcc: list[str] | None = None,
    ) -> TemplateDelivery:
        settings = self.settings
        smtp_id = notice_message_id(
            input.ticket_number,
            input.event_seq,
            input.effect_index,
            message_id,
            settings.message_id_domain,
        )
        with self.sessions() as session:
            message = session.get(Message, message_id)
            assert message is not None
            if message.delivery_status == "sent":
                return TemplateDelivery(address, message_id, "sent", smtp_id, "already sent")
            body, subject = message.body, message.subject or ""
        mail = EmailMessage()
        mail["From"] = formataddr((sender.name, sender.address))
        try:
            mail["To"] = address
            mail["Subject"] = subject
        except ValueError as exc:
            return TemplateDelivery(address, message_id, "failed", "", f"Refused: {exc}")
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = smtp_id
        mail["X-Tempodesk-Ticket"] = input.ticket_number
        # Automatic mail (RFC 3834): no auto-responder should answer it.
        mail["Auto-Submitted"] = input.auto_submitted or "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
        mail["X-Loop"] = sender.address
        self._consent_headers(mail, input, address)
        mail.set_content(body)
        try:
            detail = self._send(mail, address, sender, bcc or [])
        except ApplicationError as exc:
            if not exc.non_retryable:
                raise  # SMTP is down: retry the whole activity; sent recipients are skipped
            with transaction(self.sessions) as session:
                session.execute(
                    update(Message)
                    .where(Message.id == message_id)
                    .values(delivery_status="failed", delivery_detail=exc.message)
                )
            return TemplateDelivery(address, message_id, "failed", "", exc.message)
        with transaction(self.sessions) as session:
            session.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(delivery_status="sent", smtp_message_id=smtp_id, delivery_detail=detail)
            )
        return TemplateDelivery(address, message_id, "sent", smtp_id, detail)

    def _consent_headers(self, mail: EmailMessage, input: SendTemplateInput, to: str) -> None:
        """A non-essential mail to a customer carries the one-click unsubscribe link."""
        if input.to_role != "customer":
            return
        with self.sessions() as session:
            template = templates.get(session, input.template)
        if template is None or template.essential:
            return
        secret, base = self.settings.session_secret(), self.settings.public_url
        for name, value in unsubscribe.headers(secret, base, to).items():
            mail[name] = value

    def _send(
        self, mail: EmailMessage, to: str, sender: Sender, bcc: list[str] | None = None
    ) -> str:
        timeout = self.settings.smtp_timeout_seconds
        return smtp.send(self.sessions, mail, to, sender, timeout, bcc or [])


def _claim_key(input: SendTemplateInput) -> str:
    """Whose auto-reply claim: the ticket's acknowledgement, or a trigger's answer to one
    event (a later message of the same ticket is answered again only after the window)."""
    if input.action_id == "acknowledge":
        return input.ticket_number
    return f"{input.ticket_number}:{input.event_seq}"


def _customer_language(session: Session, number: str) -> str:
    """The language of the ticket's customer ("": no contact)."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    contact = session.get(Contact, ticket.contact_id) if ticket and ticket.contact_id else None
    return contact.language if contact else ""
