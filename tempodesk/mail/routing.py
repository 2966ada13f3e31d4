"""Where a parsed, classified mail goes: a new ticket, a message on an existing one, or a
recorded reason why neither.

Routing decides and stores (the message as a claim check, the new ticket's number and start
input through intake) and records the outcome; it never talks to Temporal. What a ticket
workflow must be told is returned as a ``MailRoute``: the mailbox workflow delivers it (or,
for mail pushed to the web, ``InboundService`` does, through the facade).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.contracts import CustomerMessageInput, CustomerRef, MailRoute
from tempodesk.core import metrics
from tempodesk.core.db import aware, column_length, fit, fit_id, transaction
from tempodesk.core.ids import follow_up_key, inbound_key
from tempodesk.core.models import (
    Contact,
    InboundMessage,
    Message,
    Order,
    PendingStart,
    Ticket,
    utcnow,
)
from tempodesk.core.settings import Settings
from tempodesk.mail import mailboxes
from tempodesk.mail.extracts import body_text, extras_of
from tempodesk.mail.filters import Classification, FilterContext, classify, tag_pattern
from tempodesk.mail.parsing.language import mail_language
from tempodesk.mail.parsing.parsed import ParsedMail
from tempodesk.people.addresses import (
    base_address,
    is_automated_address,
    is_valid_email,
    normalize_email,
)
from tempodesk.tickets import pending
from tempodesk.tickets.intake import Accepted, Intake, NewTicket, store_email_parts

ACKNOWLEDGEMENT = "ticket_received"


@dataclass
class InboundOutcome:
    outcome: str  # ticket | follow_up | ignored | quarantined
    ticket: str | None
    reason: str | None
    inbound_id: int
    duplicate: bool = False


@dataclass
class Routed:
    """What became of a mail, and what its ticket's workflow must be told (if anything)."""

    outcome: InboundOutcome
    route: MailRoute | None = None


MERGE_HOPS = 5  # a ticket merged into one merged later: followed this far


@dataclass
class Target:
    """The ticket a mail continues: a projected one, or one accepted but not opened yet (its
    opening mail came in the same batch)."""

    number: str
    customers: frozenset[str]  # its customer's addresses, plus tags stripped
    closed: bool = False
    closed_at: datetime | None = None


def record_outcome(
    sessions: sessionmaker[Session],
    inbound_id: int,
    outcome: str,
    *,
    ticket: str | None = None,
    message_id: int | None = None,
    reason: str = "",
) -> InboundOutcome:
    """The mail's final status, kept with its raw bytes."""
    with transaction(sessions) as session:
        write_outcome(session, inbound_id, outcome, ticket, message_id, reason)
    metrics.MAILS_IN.labels(outcome).inc()
    return InboundOutcome(outcome, ticket, reason or None, inbound_id)


def write_outcome(
    session: Session,
    inbound_id: int,
    outcome: str,
    ticket: str | None,
    message_id: int | None,
    reason: str,
) -> None:
    """``record_outcome``'s write, in the caller's transaction."""
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


class Router:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], intake: Intake):
        self.settings = settings
        self.sessions = sessions
        self.intake = intake

    def _finish(self, inbound_id: int, outcome: str, **recorded: Any) -> Routed:
        """``record_outcome``, nothing to deliver (yet: a route is added by the caller)."""
        return Routed(record_outcome(self.sessions, inbound_id, outcome, **recorded))

    def route(
        self,
        inbound_id: int,
        config: mailboxes.MailboxConfig,
        mail: ParsedMail,
        into_ticket: str | None,
    ) -> Routed:
        """Classify the mail with the named filters and send it where it belongs."""
        verdict = self._classify(config, mail)
        if verdict.kind == "loop":
            reason = "mail loop: " + "; ".join(verdict.reasons)
            return self._finish(inbound_id, "ignored", reason=reason)
        if verdict.kind == "bounce":
            return self._bounce(inbound_id, verdict)
        sender = normalize_email(verdict.sender or mail.from_address)
        if not is_valid_email(sender):
            reason = f"no usable sender address ({sender!r})"
            return self._finish(inbound_id, "quarantined", reason=reason)
        target, note = self._follow_up_target(verdict, sender, into_ticket)
        if target is not None:
            return self._follow_up(inbound_id, config, mail, verdict, sender, target)
        if verdict.kind == "auto_reply":
            reason = "auto-reply: " + "; ".join(verdict.reasons)
            return self._finish(inbound_id, "ignored", reason=reason)
        return self.new_ticket(inbound_id, config, mail, verdict, sender, note)

    def _classify(self, config: mailboxes.MailboxConfig, mail: ParsedMail) -> Classification:
        context = FilterContext(
            own_addresses=config.own_addresses,
            own_domains=frozenset([self.settings.message_id_domain.lower()]),
            tag_pattern=tag_pattern(self.settings.ticket_number_template),
            order_pattern=config.order_pattern,
            blocklist=config.blocklist,
        )
        return classify(mail, context)

    def redirect(
        self, inbound_id: int, config: mailboxes.MailboxConfig, mail: ParsedMail, number: str
    ) -> Routed:
        """A follow-up that reached ``number`` after it closed, in a mailbox whose policy
        makes such mail a new ticket: accept it as one (keyed by the inbound message, so
        twice is one ticket)."""
        verdict = self._classify(config, mail)
        sender = normalize_email(verdict.sender or mail.from_address)
        note = f"A reply to the closed ticket {number}."
        return self.new_ticket(inbound_id, config, mail, verdict, sender, note)

    def _follow_up_target(
        self, verdict: Classification, sender: str, into_ticket: str | None
    ) -> tuple[Target | None, str]:
        """The ticket this mail continues, if any, and a note when a mention was refused:
        its In-Reply-To/References name a message we sent or received on a ticket, or its
        subject carries the ticket's tag *and* it comes from that ticket's customer."""
        with self.sessions() as session:
            if into_ticket:
                return _target(session, into_ticket), ""
            base = base_address(sender)
            references = [r for r in verdict.references if r][:50]
            for number, recipient, author in _referenced(session, references):
                target = _target(session, number)
                people = {base_address(normalize_email(x)) for x in (recipient, author) if x}
                if target is not None and (base in people or base in target.customers):
                    return target, ""
            note = ""
            for number in verdict.ticket_numbers:
                target = _target(session, number)
                if target is None:
                    continue
                if base in target.customers:
                    return target, ""
                # Someone else's ticket number in the subject must not write into it (R9).
                note = f"The subject mentions {number}, but the sender is not its customer."
            return None, note

    def _follow_up(
        self,
        inbound_id: int,
        config: mailboxes.MailboxConfig,
        mail: ParsedMail,
        verdict: Classification,
        sender: str,
        target: Target,
    ) -> Routed:
        auto_reply = verdict.kind == "auto_reply"
        if target.closed and auto_reply:
            # An out-of-office answering our closing mail must not reopen the ticket.
            why = "; ".join(verdict.reasons)
            reason = f"auto-reply to the closed ticket {target.number}: {why}"
            return self._finish(inbound_id, "ignored", ticket=target.number, reason=reason)
        if target.closed and not _reopens(config, target):
            note = f"A reply to the closed ticket {target.number}."
            return self.new_ticket(inbound_id, config, mail, verdict, sender, note)
        message_id = self._store_follow_up(inbound_id, target.number, mail, sender, auto_reply)
        message = CustomerMessageInput(
            message_id=message_id,
            author=sender,
            channel="email",
            rfc_message_id=mail.message_id,
            auto_reply=auto_reply,
            automatic=_automatic(verdict, sender),
            # A target closed already got here only to be reopened.
            if_closed="reopen" if target.closed else config.if_closed,
        )
        routed = self._finish(inbound_id, "follow_up", ticket=target.number, message_id=message_id)
        routed.route = MailRoute(target.number, message=message)
        return routed

    def _store_follow_up(
        self, inbound_id: int, number: str, mail: ParsedMail, sender: str, auto_reply: bool
    ) -> int:
        """The follow-up's message (claim check), once per inbound message. Its key is not
        intake's (``inbound_key``): a mail first routed to a ticket and, after that ticket
        closed, routed again as a new one must not find this message as its ticket."""
        key = follow_up_key(inbound_id)
        with transaction(self.sessions) as session:
            existing = session.scalar(
                select(Message).where(
                    or_(
                        Message.idempotency_key == key,
                        # stored before follow-ups had their own key
                        (Message.idempotency_key == inbound_key(inbound_id))
                        & (Message.ticket_number == number),
                    )
                )
            )
            if existing is not None:
                return existing.id
            message = Message(
                ticket_number=number,
                idempotency_key=key,
                channel="email",
                sender_role="customer",
                author=sender,
                subject=fit(Message.subject, mail.subject),
                body=body_text(mail),
                auto_reply=auto_reply,
            )
            store_email_parts(message, extras_of(mail, "", inbound_id))
            session.add(message)
            session.flush()
            return message.id

    def new_ticket(
        self,
        inbound_id: int,
        config: mailboxes.MailboxConfig,
        mail: ParsedMail,
        verdict: Classification,
        sender: str,
        note: str,
    ) -> Routed:
        """Accept the mail as a new ticket (number reserved, start input kept: intake)."""
        extras = extras_of(mail, config.name, inbound_id)
        extras.spam = verdict.kind == "spam"
        extras.automatic = _automatic(verdict, sender)
        extras.acknowledge = (
            ACKNOWLEDGEMENT
            if config.acknowledge and not extras.automatic and verdict.kind == "mail"
            else ""
        )
        extras.create_contact = config.create_contacts
        body = body_text(mail)
        if note:
            body = f"{body}\n\n[{note}]"
        # An order "number" no order could have is not linked (rather than failing the mail).
        orders = [o for o in verdict.order_numbers if len(o) <= (column_length(Order.number) or 0)]
        reason = "spam: " + "; ".join(verdict.reasons) if extras.spam else note

        def recorded(session: Session, accepted: Accepted) -> None:  # in intake's transaction
            write_outcome(
                session, inbound_id, "ticket", accepted.number, accepted.message_id, reason
            )

        accepted = self.intake.accept(
            NewTicket(
                subject=fit(Ticket.subject, " ".join(mail.subject.split()))[
                    : self.settings.max_subject_chars
                ]
                or "(no subject)",
                body=body,
                customer=CustomerRef(
                    email=sender,
                    name=fit(Ticket.customer_name, mail.from_name),
                    # A new contact speaks the mail's language, else the mailbox's.
                    language=mail_language(
                        mail.header("content-language"), mail.subject, mail.text or body
                    )
                    or config.language
                    or self.settings.default_language,
                ),
                channel="email",
                order_number=orders[0] if orders else "",
                idempotency_key=inbound_key(inbound_id),
                email=extras,
            ),
            also=recorded,
        )
        metrics.MAILS_IN.labels("ticket").inc()
        routed = Routed(InboundOutcome("ticket", accepted.number, reason or None, inbound_id))
        if accepted.start is not None:
            routed.route = MailRoute(accepted.number, start=accepted.start)
        return routed

    def _bounce(self, inbound_id: int, verdict: Classification) -> Routed:
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


def _referenced(session: Session, references: list[str]) -> list[tuple[str, str, str]]:
    """(ticket, recipient, author) of the messages these Message-IDs name: on a timeline, or
    the opening mail of a ticket not opened yet."""
    if not references:
        return []
    # Stored ids are fitted to their column (``fit_id``): look each reference up the same way.
    column = Message.smtp_message_id
    variants = [fit_id(column, r) for r in references] + [
        fit_id(column, f"<{r}>") for r in references
    ]
    waiting = select(PendingStart.ticket_number).scalar_subquery()
    rows = session.execute(
        select(Message.ticket_number, Message.recipient, Message.author)
        .where(Message.smtp_message_id.in_(variants))
        .where(or_(Message.attached.is_(True), Message.ticket_number.in_(waiting)))
    ).all()
    return [(number, recipient or "", author or "") for number, recipient, author in rows]


def _target(session: Session, number: str) -> Target | None:
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is not None:
        addresses: set[str] = set()
        # Merged: mail follows to the ticket that took its messages (a few hops at most), and
        # the merged ticket's customer may write there too.
        for _hop in range(MERGE_HOPS):
            if not ticket.merged_into:
                break
            addresses |= _addresses(session, ticket)
            survivor = session.scalar(select(Ticket).where(Ticket.number == ticket.merged_into))
            if survivor is None:
                break
            ticket = survivor
        addresses |= _addresses(session, ticket)
        return Target(
            ticket.number,
            frozenset(base_address(normalize_email(a)) for a in addresses if a),
            closed=ticket.state_category == "closed",
            closed_at=aware(ticket.updated_at),
        )
    start = pending.recall(session, number)
    if start is None:
        return None
    return Target(number, frozenset([base_address(normalize_email(start.customer.email))]))


def _addresses(session: Session, ticket: Ticket) -> set[str]:
    """A ticket's customer's addresses: as it was written, and its contact's now."""
    addresses = {ticket.customer_email}
    if ticket.contact_id is not None:
        contact = session.get(Contact, ticket.contact_id)
        if contact is not None and contact.email:
            addresses.add(contact.email)
    return addresses


def _reopens(config: mailboxes.MailboxConfig, target: Target) -> bool:
    if config.closed_policy == "reopen":
        return True
    if config.closed_policy == "new":
        return False
    closed_at = target.closed_at
    return closed_at is not None and utcnow() - closed_at <= timedelta(days=config.reopen_days)


def _automatic(verdict: Classification, sender: str) -> bool:
    """Whether mail was sent by a machine (RFC 3834 Auto-Submitted, Precedence bulk or list,
    a robot's address): nothing automatic answers it."""
    return verdict.auto_submitted or verdict.kind != "mail" or is_automated_address(sender)
