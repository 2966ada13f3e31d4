"""Inbound mail, from raw bytes to a ticket, a follow-up, or a recorded reason why not.

The same path serves the IMAP poller (``MailboxWorkflow``), the inbound MIME endpoint and an
agent's .eml import:

1. Store the raw bytes under a dedupe key that is unique per mailbox (a PostgreSQL/SQLite
   unique constraint): the normalised Message-ID together with the sender, or a hash of the
   bytes when there is no Message-ID. The same message twice is one row; two different
   messages that share a Message-ID but not a sender stay two (a known Message-ID must not
   become a write capability, RELIABILITY R5 g).
2. Parse behind size and shape guards and classify with the named filters of
   ``tempodesk.mail``; a message that cannot be processed is *quarantined* with its reason,
   never lost and never blocking the mailbox.
3. Route: a follow-up becomes a ``customer_message`` signal to its ticket (reopening a closed
   one per the mailbox's policy), anything else starts a ticket through intake. Every step is
   idempotent, so a crash anywhere is repaired by processing the same bytes again.
4. Only then record the outcome. The caller acknowledges the mail (IMAP flag, HTTP 202) only
   after this returns.
"""

from __future__ import annotations

import hashlib
import logging
import re
import string
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.contracts import CustomerMessageInput, CustomerRef
from tempodesk.core.db import aware, transaction, upsert
from tempodesk.core.ids import inbound_key
from tempodesk.core.models import Contact, InboundMessage, Message, Ticket, utcnow
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import TemporalFacade, TicketNotFound
from tempodesk.mail import (
    Classification,
    FilterContext,
    MailRejected,
    ParsedMail,
    classify,
    mailboxes,
    normalize_message_id,
    parse,
)
from tempodesk.people.addresses import (
    base_address,
    is_automated_address,
    is_valid_email,
    normalize_email,
)
from tempodesk.tickets import processes, queries
from tempodesk.tickets.intake import (
    AttachmentData,
    EmailExtras,
    Intake,
    IntakeInvalid,
    NewTicket,
    store_email_parts,
)

log = logging.getLogger(__name__)

FINAL = ("ticket", "follow_up", "ignored", "quarantined")
ACKNOWLEDGEMENT = "ticket_received"
MAX_BODY = 90_000  # characters of text kept on the ticket; the raw message keeps everything


@dataclass
class InboundOutcome:
    outcome: str  # ticket | follow_up | ignored | quarantined
    ticket: str | None
    reason: str | None
    inbound_id: int
    duplicate: bool = False


class InboundService:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        temporal: TemporalFacade,
        intake: Intake,
    ):
        self.settings = settings
        self.sessions = sessions
        self.temporal = temporal
        self.intake = intake

    # ------------------------------------------------------------------ entry point

    def receive(
        self,
        mailbox: str,
        raw: bytes,
        *,
        source: str = "api",
        uid: int | None = None,
        uidvalidity: int | None = None,
        into_ticket: str | None = None,
    ) -> InboundOutcome:
        """Store, parse, route and record one raw message; safe to call again with the same
        bytes (it then returns the first outcome). Raises UnknownMailbox."""
        with self.sessions() as session:
            config = mailboxes.config(session, mailbox, self.settings)
        digest = hashlib.sha256(raw).hexdigest()
        if len(raw) > config.max_bytes:
            row = self._store(config.name, f"raw:{digest}", raw, None, source, uid, uidvalidity)
            if row.status in FINAL:
                return self._outcome(row, duplicate=True)
            return self._finish(
                row.id,
                "quarantined",
                reason=f"too large: {len(raw)} bytes, the limit is {config.max_bytes}",
            )
        parsed: ParsedMail | None = None
        problem = ""
        try:
            parsed = parse(raw, max_bytes=config.max_bytes)
        except MailRejected as exc:
            problem = f"{exc.kind}: {exc.reason}"
        except Exception as exc:  # a parser bug must quarantine the mail, not block the box
            log.exception("parser failed on a message for %s", mailbox)
            problem = f"the parser failed: {type(exc).__name__}: {exc}"
        row = self._store(
            config.name, dedupe_key(raw, parsed), raw, parsed, source, uid, uidvalidity
        )
        if row.status in FINAL:
            return self._outcome(row, duplicate=True)
        if parsed is None:
            return self._finish(row.id, "quarantined", reason=problem)
        try:
            return self._route(row.id, config, parsed, into_ticket)
        except (IntakeInvalid, ValueError) as exc:
            return self._finish(row.id, "quarantined", reason=f"cannot become a ticket: {exc}")

    def reprocess(self, inbound_id: int) -> InboundOutcome:
        """Run a stored (e.g. quarantined) message through the pipeline again."""
        with transaction(self.sessions) as session:
            row = session.get(InboundMessage, inbound_id)
            if row is None:
                raise LookupError(inbound_id)
            row.status, row.reason = "stored", ""
            mailbox, raw = row.mailbox, row.raw
        with self.sessions() as session:
            config = mailboxes.config(session, mailbox, self.settings)
        try:
            parsed = parse(raw, max_bytes=max(config.max_bytes, len(raw)))
        except MailRejected as exc:
            return self._finish(inbound_id, "quarantined", reason=f"{exc.kind}: {exc.reason}")
        return self._route(inbound_id, config, parsed, None)

    def release(self, inbound_id: int, author: str) -> InboundOutcome:
        """An admin's decision: make a ticket of a quarantined or ignored message anyway.

        What can be read becomes the ticket; the raw message is attached to it either way.
        """
        with self.sessions() as session:
            row = session.get(InboundMessage, inbound_id)
            if row is None:
                raise LookupError(inbound_id)
            if row.status in ("ticket", "follow_up") and row.ticket_number:
                return self._outcome(row, duplicate=True)
            mailbox, raw = row.mailbox, row.raw
        with self.sessions() as session:
            config = mailboxes.config(session, mailbox, self.settings)
        try:
            mail = parse(raw, max_bytes=max(config.max_bytes, len(raw)))
            sender, name, subject, body = (
                mail.from_address,
                mail.from_name,
                mail.subject,
                _body_text(mail),
            )
            extras = _extras(mail, config.name, inbound_id)
        except MailRejected as exc:
            sender, name, subject = "", "", "(a message that could not be read)"
            body = f"The message could not be read ({exc.reason}); see the attached original."
            extras = EmailExtras(mailbox=config.name, inbound_id=inbound_id)
        extras.attachments.append(AttachmentData("original.eml", "message/rfc822", raw))
        extras.create_contact = config.create_contacts
        if not is_valid_email(normalize_email(sender)):
            sender = f"unknown-sender-{inbound_id}@invalid.example"
        created = self.intake.create_ticket(
            NewTicket(
                subject=" ".join(subject.split())[:250] or "(no subject)",
                body=f"{body}\n\n[Released from quarantine by {author}.]",
                customer=CustomerRef(email=sender, name=name[:200]),
                channel="email",
                idempotency_key=inbound_key(inbound_id),
                email=extras,
            )
        )
        return self._finish(
            inbound_id, "ticket", ticket=created.number, reason=f"released by {author}"
        )

    # ------------------------------------------------------------------ storage

    def _store(
        self,
        mailbox: str,
        key: str,
        raw: bytes,
        parsed: ParsedMail | None,
        source: str,
        uid: int | None,
        uidvalidity: int | None,
    ) -> InboundMessage:
        """The raw bytes, durable before anything else happens; the existing row on a repeat."""
        with transaction(self.sessions) as session:
            upsert(
                session,
                InboundMessage,
                {
                    "mailbox": mailbox,
                    "dedupe_key": key,
                    "source": source,
                    "rfc_message_id": (parsed.message_id if parsed else "")[:1000],
                    "sender": (parsed.from_address if parsed else "")[:254],
                    "subject": (parsed.subject if parsed else "")[:300],
                    "raw": raw,
                    "size": len(raw),
                    "sha256": hashlib.sha256(raw).hexdigest(),
                    "imap_uid": uid,
                    "imap_uidvalidity": uidvalidity,
                    "status": "stored",
                    "received_at": utcnow(),
                },
                on=["mailbox", "dedupe_key"],
            )
            row = session.scalar(
                select(InboundMessage)
                .where(InboundMessage.mailbox == mailbox)
                .where(InboundMessage.dedupe_key == key)
            )
            assert row is not None
            row.attempts += 1
            session.flush()
            session.expunge(row)
            return row

    def _finish(
        self,
        inbound_id: int,
        outcome: str,
        *,
        ticket: str | None = None,
        message_id: int | None = None,
        reason: str = "",
    ) -> InboundOutcome:
        with transaction(self.sessions) as session:
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id)
                .values(
                    status=outcome,
                    ticket_number=ticket,
                    message_id=message_id,
                    reason=reason[:2000],
                    processed_at=utcnow(),
                )
            )
        return InboundOutcome(outcome, ticket, reason or None, inbound_id)

    @staticmethod
    def _outcome(row: InboundMessage, duplicate: bool = False) -> InboundOutcome:
        return InboundOutcome(row.status, row.ticket_number, row.reason or None, row.id, duplicate)

    # ------------------------------------------------------------------ routing

    def _route(
        self,
        inbound_id: int,
        config: mailboxes.MailboxConfig,
        mail: ParsedMail,
        into_ticket: str | None,
    ) -> InboundOutcome:
        context = FilterContext(
            own_addresses=config.own_addresses,
            own_domains=frozenset([self.settings.message_id_domain.lower()]),
            tag_pattern=tag_pattern(self.settings.ticket_number_template),
            order_pattern=config.order_pattern,
            blocklist=config.blocklist,
        )
        verdict = classify(mail, context)
        if verdict.kind == "loop":
            return self._finish(
                inbound_id, "ignored", reason="mail loop: " + "; ".join(verdict.reasons)
            )
        if verdict.kind == "bounce":
            return self._bounce(inbound_id, verdict)
        sender = normalize_email(verdict.sender or mail.from_address)
        if not is_valid_email(sender):
            return self._finish(
                inbound_id, "quarantined", reason=f"no usable sender address ({sender!r})"
            )
        target, note = self._follow_up_target(mail, verdict, sender, into_ticket)
        if target is not None:
            return self._follow_up(inbound_id, config, mail, verdict, sender, target)
        if verdict.kind == "auto_reply":
            return self._finish(
                inbound_id, "ignored", reason="auto-reply: " + "; ".join(verdict.reasons)
            )
        return self._new_ticket(inbound_id, config, mail, verdict, sender, note)

    def _follow_up_target(
        self,
        mail: ParsedMail,
        verdict: Classification,
        sender: str,
        into_ticket: str | None,
    ) -> tuple[Ticket | None, str]:
        """The ticket this mail continues, if any, and a note when a mention was refused."""
        with self.sessions() as session:
            if into_ticket:
                return session.scalar(select(Ticket).where(Ticket.number == into_ticket)), ""
            base = base_address(sender)
            references = [r for r in verdict.references if r][:50]
            if references:
                variants = references + [f"<{r}>" for r in references]
                rows = session.execute(
                    select(Message.ticket_number, Message.recipient, Message.author)
                    .where(Message.smtp_message_id.in_(variants))
                    .where(Message.attached.is_(True))
                ).all()
                for number, recipient, author in rows:
                    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
                    if ticket is None:
                        continue
                    people = {base_address(normalize_email(x)) for x in (recipient, author) if x}
                    if base in people or self._is_customer(session, ticket, base):
                        return ticket, ""
            note = ""
            for number in verdict.ticket_numbers:
                ticket = session.scalar(select(Ticket).where(Ticket.number == number))
                if ticket is None:
                    continue
                if self._is_customer(session, ticket, base):
                    return ticket, ""
                # Someone else's ticket number in the subject must not write into it (R9).
                note = f"The subject mentions {number}, but the sender is not its customer."
            return None, note

    @staticmethod
    def _is_customer(session: Session, ticket: Ticket, base: str) -> bool:
        addresses = {ticket.customer_email}
        if ticket.contact_id is not None:
            contact = session.get(Contact, ticket.contact_id)
            if contact is not None and contact.email:
                addresses.add(contact.email)
        return base in {base_address(normalize_email(a)) for a in addresses if a}

    def _follow_up(
        self,
        inbound_id: int,
        config: mailboxes.MailboxConfig,
        mail: ParsedMail,
        verdict: Classification,
        sender: str,
        ticket: Ticket,
    ) -> InboundOutcome:
        auto_reply = verdict.kind == "auto_reply"
        if ticket.state_category == "closed" and not self._reopens(config, ticket):
            return self._new_ticket(
                inbound_id,
                config,
                mail,
                verdict,
                sender,
                f"A reply to the closed ticket {ticket.number}.",
            )
        message_id = self._store_follow_up(inbound_id, ticket.number, mail, sender, auto_reply)
        signal = CustomerMessageInput(
            message_id=message_id,
            author=sender,
            channel="email",
            rfc_message_id=mail.message_id,
            auto_reply=auto_reply,
        )
        try:
            self.temporal.customer_message(ticket.number, signal)
        except TicketNotFound:
            # Its workflow has ended (closed): a new run restores it from the database.
            with self.sessions() as session:
                current = session.scalar(select(Ticket).where(Ticket.number == ticket.number))
                assert current is not None
                pinned = processes.pin_version(
                    session, current.process_name, current.process_version
                )
                snapshot = queries.snapshot_of(current)
            self.temporal.reopen_ticket(pinned, snapshot, signal)
        return self._finish(inbound_id, "follow_up", ticket=ticket.number, message_id=message_id)

    @staticmethod
    def _reopens(config: mailboxes.MailboxConfig, ticket: Ticket) -> bool:
        if config.closed_policy == "reopen":
            return True
        if config.closed_policy == "new":
            return False
        closed_at = aware(ticket.updated_at)
        return closed_at is not None and utcnow() - closed_at <= timedelta(days=config.reopen_days)

    def _store_follow_up(
        self, inbound_id: int, number: str, mail: ParsedMail, sender: str, auto_reply: bool
    ) -> int:
        """The follow-up's message (claim check), once per inbound message."""
        key = inbound_key(inbound_id)
        with transaction(self.sessions) as session:
            existing = session.scalar(select(Message).where(Message.idempotency_key == key))
            if existing is not None:
                return existing.id
            message = Message(
                ticket_number=number,
                idempotency_key=key,
                channel="email",
                sender_role="customer",
                author=sender,
                subject=mail.subject[:300],
                body=_body_text(mail),
                auto_reply=auto_reply,
            )
            store_email_parts(message, _extras(mail, "", inbound_id))
            session.add(message)
            session.flush()
            return message.id

    def _new_ticket(
        self,
        inbound_id: int,
        config: mailboxes.MailboxConfig,
        mail: ParsedMail,
        verdict: Classification,
        sender: str,
        note: str,
    ) -> InboundOutcome:
        acknowledge = (
            ACKNOWLEDGEMENT
            if config.acknowledge
            and not verdict.auto_submitted
            and verdict.kind == "mail"
            and not is_automated_address(sender)
            else ""
        )
        extras = _extras(mail, config.name, inbound_id)
        extras.spam = verdict.kind == "spam"
        extras.acknowledge = acknowledge
        extras.create_contact = config.create_contacts
        body = _body_text(mail)
        if note:
            body = f"{body}\n\n[{note}]"
        created = self.intake.create_ticket(
            NewTicket(
                subject=" ".join(mail.subject.split())[:250] or "(no subject)",
                body=body,
                customer=CustomerRef(email=sender, name=mail.from_name[:200]),
                channel="email",
                order_number=verdict.order_numbers[0] if verdict.order_numbers else "",
                idempotency_key=inbound_key(inbound_id),
                email=extras,
            )
        )
        reason = "spam: " + "; ".join(verdict.reasons) if extras.spam else note
        with self.sessions() as session:
            message_id = session.scalar(
                select(Message.id).where(Message.idempotency_key == inbound_key(inbound_id))
            )
        return self._finish(
            inbound_id, "ticket", ticket=created.number, message_id=message_id, reason=reason
        )

    def _bounce(self, inbound_id: int, verdict: Classification) -> InboundOutcome:
        """A delivery report: mark the failed addresses on their contacts."""
        failed = sorted({normalize_email(a) for a in verdict.bounced_recipients if a})
        with transaction(self.sessions) as session:
            for address in failed:
                session.execute(
                    update(Contact)
                    .where(Contact.email == address)
                    .values(bounced_at=utcnow(), bounce_reason="; ".join(verdict.reasons)[:500])
                )
        what = ", ".join(failed) or "an unknown recipient"
        return self._finish(inbound_id, "ignored", reason=f"bounce: delivery to {what} failed")


def dedupe_key(raw: bytes, parsed: ParsedMail | None) -> str:
    """Message-ID with its sender (so a spoofed ID from someone else is a different message),
    else the bytes themselves."""
    if parsed is not None:
        message_id = normalize_message_id(parsed.message_id)
        if message_id and len(message_id) <= 900:
            sender = base_address(normalize_email(parsed.from_address))
            return "mid:" + hashlib.sha256(f"{message_id}|{sender}".encode()).hexdigest()
    return "raw:" + hashlib.sha256(raw).hexdigest()


def tag_pattern(template: str) -> str:
    """A regex for "[<ticket number>]" in subjects, derived from the number template."""
    pattern = ""
    for literal, field, _spec, _ in string.Formatter().parse(template):
        pattern += re.escape(literal)
        if field == "year":
            pattern += r"\d{4}"
        elif field == "month":
            pattern += r"\d{2}"
        elif field == "seq":
            pattern += r"\d+"
    return r"\[(" + pattern + r")\]"


def _body_text(mail: ParsedMail) -> str:
    text = mail.text.strip() or (
        "(no text; see the attachments)" if mail.attachments else "(no text)"
    )
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY] + "\n\n[… cut here: the full text is in the raw message]"
    return text


def _extras(mail: ParsedMail, mailbox: str, inbound_id: int) -> EmailExtras:
    return EmailExtras(
        mailbox=mailbox,
        inbound_id=inbound_id,
        rfc_message_id=mail.message_id[:250],
        html=mail.html,
        attachments=[
            AttachmentData(a.filename, a.content_type[:200], a.data, a.inline, a.content_id)
            for a in mail.attachments
        ],
    )


__all__ = ["InboundOutcome", "InboundService", "dedupe_key", "tag_pattern"]
