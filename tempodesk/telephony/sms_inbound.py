"""SMS in: a provider delivered an SMS a customer wrote.

The sender's number (E.164) finds the contact; the contact's latest ticket that is not
closed gets the text as a customer message (stored first, then the ``customer_message``
signal, as the API's); without one the SMS opens a ticket (channel ``sms``). The provider's
message id is the idempotency key (``core.ids.sms_inbound_key``): the same id again is the
same message — stored once, and told to its ticket again only to finish what a crash may
have left (the ticket ignores a message it has).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.core.ids import sms_inbound_key
from tempodesk.core.models import Message, Ticket
from tempodesk.core.settings import Settings
from tempodesk.people.addresses import e164
from tempodesk.people.contacts import find_contact
from tempodesk.telephony.sms_text import clean_body
from tempodesk.tickets.actions import Actions, TicketNotFound
from tempodesk.tickets.intake import CustomerRef, Intake, NewTicket

MAX_SMS_CHARS = 10_000  # a long concatenated SMS is ~1,500; anything far beyond is not one
CLOSED = ("closed", "merged")


class SmsInvalid(ValueError):
    """The provider's request does not hold an SMS we can take."""


@dataclass
class InboundSms:
    provider: str
    sender: str
    to: str
    text: str
    message_id: str


@dataclass
class InboundOutcome:
    outcome: str  # message | ticket | duplicate
    ticket: str


class SmsInbound:
    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], intake: Intake, actions: Actions
    ):
        self.settings, self.sessions = settings, sessions
        self.intake, self.actions = intake, actions

    def receive(self, sms: InboundSms) -> InboundOutcome:
        """Take one SMS in (idempotent on the provider's message id)."""
        number = e164(sms.sender, self.settings.phone_region)
        text = clean_body(sms.text)
        if not number:
            raise SmsInvalid("The sender is not a phone number.")
        if not sms.message_id.strip() or len(sms.message_id) > 100:
            raise SmsInvalid("A message id (at most 100 characters) is required.")
        if not text or len(text) > MAX_SMS_CHARS:
            raise SmsInvalid(f"The text must be 1 to {MAX_SMS_CHARS} characters.")
        key = sms_inbound_key(sms.provider, sms.message_id.strip())
        request = NewTicket(
            subject=_subject(text),
            body=text,
            customer=CustomerRef(phone=number),
            channel="sms",
            idempotency_key=key,
        )
        with self.sessions() as session:
            stored = session.scalar(select(Message).where(Message.idempotency_key == key))
            if stored is not None:
                return self._again(session, stored, request)
            ticket = self._open_ticket(session, number)
        if ticket:
            try:
                self.actions.customer_message(
                    ticket, text, author=number, channel="sms", idempotency_key=key
                )
                return InboundOutcome("message", ticket)
            except TicketNotFound:
                pass  # closed meanwhile: a new ticket
        created = self.intake.create_ticket(request, accept_if_down=True)
        return InboundOutcome("ticket", created.number)

    def _again(self, session: Session, stored: Message, request: NewTicket) -> InboundOutcome:
        """The same SMS again: nothing new, but what a crash left half done is finished —
        a message on no timeline yet is told to its ticket again, a ticket accepted but not
        started is started (both idempotent)."""
        number = stored.ticket_number
        if not stored.attached:
            if session.scalar(select(Ticket.id).where(Ticket.number == number)) is None:
                number = self.intake.create_ticket(request, accept_if_down=True).number
            else:
                with contextlib.suppress(TicketNotFound):
                    self.actions.customer_message(
                        number,
                        request.body,
                        author=request.customer.phone,
                        channel="sms",
                        idempotency_key=request.idempotency_key,
                    )
        return InboundOutcome("duplicate", number)

    @staticmethod
    def _open_ticket(session: Session, number: str) -> str:
        contact = find_contact(session, "", number)
        if contact is None:
            return ""
        found = session.scalar(
            select(Ticket.number)
            .where(Ticket.contact_id == contact.id)
            .where(Ticket.state_category.not_in(CLOSED))
            .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
            .limit(1)
        )
        return found or ""


def _subject(text: str) -> str:
    first = text.split("\n", 1)[0].strip()
    return (first[:77] + "…") if len(first) > 78 else (first or "SMS")
