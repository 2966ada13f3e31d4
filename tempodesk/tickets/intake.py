"""Intake: a new request becomes a ticket, exactly once.

1. Check the request (sizes, the email address) and refuse it whole if it is bad.
2. In **one transaction**: pin the process, look up the idempotency key (an existing ticket
   answers at once), else reserve a ticket number and store the customer's message (the
   claim check: its body never enters workflow history) and the workflow's start input
   (``tempodesk.tickets.pending``).
3. Start the ticket's workflow with update-with-start (``USE_EXISTING``), which answers once
   the ticket is projected into the database; the ticket's own opening step forgets the
   pending start.

A retry with the same key, at any point, finds the same number and joins the same workflow.
A start Temporal never confirmed (it was away, the web process died) is made by the worker
(``pending.resume_pending``), so a stored request always becomes a ticket.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from statemachines import PRIORITIES
from tempodesk.contracts import CustomerRef, PinnedProcess, TicketStartInput
from tempodesk.core import limits, metrics
from tempodesk.core.db import transaction
from tempodesk.core.ids import form_channel, ticket_workflow_id
from tempodesk.core.limits import max_chars
from tempodesk.core.models import Attachment, Channel, Contact, Message, Order, Ticket
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import EngineUnavailable, TemporalFacade
from tempodesk.people.addresses import is_valid_email, normalize_email, normalize_phone
from tempodesk.people.contacts import find_contact
from tempodesk.routing import triggers
from tempodesk.routing.opening import MAX_BODY, process_by_rules
from tempodesk.routing.rules import Facts
from tempodesk.sla import entitlements
from tempodesk.sla.policies import default_calendar
from tempodesk.tickets import pending, processes
from tempodesk.tickets.numbers import allocate_number

CHANNELS = ("api", "web", "email", "phone", "walk_in", "sms")

log = logging.getLogger(__name__)


class IntakeInvalid(ValueError):
    """The request cannot become a ticket; ``errors`` maps a field to a readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


KEY_REUSED = "This key was used for a different request."


class KeyReused(IntakeInvalid):
    """The idempotency key belongs to another request (its fingerprint differs)."""

    def __init__(self) -> None:
        super().__init__({"idempotency_key": KEY_REUSED})


@dataclass
class NewTicket:
    subject: str
    body: str
    customer: CustomerRef
    channel: str = "api"
    order_number: str = ""
    priority: int = 2
    idempotency_key: str = ""
    # A hash of the whole request (the caller's): the same key with another one is refused.
    fingerprint: str = ""
    created_by: str = ""  # the agent who entered it, if any
    process: str = ""  # a published process; else the channel's; else the default
    email: EmailExtras | None = None  # what a ticket from a mailbox brings along
    # A web form's request (``tickets.forms``): its slug, its custom fields' checked values
    # and the files sent with it (checked against the form's limits).
    form: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    attachments: list[AttachmentData] = field(default_factory=list)


@dataclass
class EmailExtras:
    """The parts of an inbound mail that become part of the new ticket."""

    mailbox: str
    inbound_id: int
    rfc_message_id: str = ""
    html: str | None = None
    attachments: list[AttachmentData] = field(default_factory=list)
    spam: bool = False
    acknowledge: str = ""  # template name, or "" for none
    create_contact: bool = True
    automatic: bool = False  # automatic mail (RFC 3834, a list, a robot): no auto-reply


@dataclass
class AttachmentData:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass
class Accepted:
    """What the one intake transaction decided: a ticket that exists already (its state), or
    the start input of one to start (``fresh`` if this very request reserved its number)."""

    number: str
    start: TicketStartInput | None = None
    state: str = ""
    fresh: bool = False
    message_id: int | None = None  # the customer's stored message


@dataclass
class CreatedTicket:
    number: str
    workflow_id: str
    state: str
    created: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    # Accepted while the ticket engine did not answer: the worker starts it (resume_pending).
    queued: bool = False


class Intake:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        temporal: TemporalFacade | None = None,
    ):
        """``temporal``: the facade of a process that starts tickets itself (web, CLI); the
        worker's activities only accept requests (its workflows start the tickets)."""
        self.settings = settings
        self.sessions = sessions
        self.temporal = temporal

    def validate(self, request: NewTicket) -> NewTicket:
        """Normalise the request or raise IntakeInvalid with every problem."""
        errors: dict[str, str] = {}
        subject = " ".join(request.subject.split())
        longest_subject = min(self.settings.max_subject_chars, max_chars(Message.subject) or 0)
        if not subject:
            errors["subject"] = "Enter a subject."
        elif len(subject) > longest_subject:
            errors["subject"] = f"At most {longest_subject} characters."
        body = request.body.replace("\r\n", "\n")
        if not body.strip():
            errors["body"] = "Enter a message."
        elif len(body) > self.settings.max_message_chars:
            errors["body"] = f"At most {self.settings.max_message_chars} characters."
        email = normalize_email(request.customer.email)
        phone = normalize_phone(request.customer.phone)
        if email and not is_valid_email(email):
            errors["email"] = "Enter a valid email address."
        if not email and not phone:
            errors["email"] = "Enter an email address (or a phone number)."
        if request.customer.phone and not phone:
            errors["phone"] = "Enter a valid phone number."
        name = " ".join(request.customer.name.split())
        order = request.order_number.strip()
        # Each value against the column it ends up in (the contact, the order, the key).
        errors = (
            limits.check(
                {
                    "email": (email, Contact.email),
                    "phone": (phone, Contact.phone),
                    "name": (name, Contact.name),
                    "order_number": (order, Order.number),
                    "idempotency_key": (request.idempotency_key, Message.idempotency_key),
                }
            )
            | errors
        )
        if request.channel not in CHANNELS:
            errors["channel"] = f"Use one of: {', '.join(CHANNELS)}."
        if request.priority not in PRIORITIES:
            errors["priority"] = "Use 1 (low) to 4 (urgent)."
        if errors:
            raise IntakeInvalid(errors)
        customer = replace(request.customer, email=email, name=name, phone=phone)
        return replace(
            request,
            subject=subject,
            body=body,
            customer=customer,
            order_number=order,
            process=request.process.strip(),
        )

    def create_ticket(self, request: NewTicket, *, accept_if_down: bool = False) -> CreatedTicket:
        """Create the ticket (or find the one this idempotency key created) and return it.

        With ``accept_if_down``, a ticket engine that does not answer still gives a number
        (``queued``): the worker starts the ticket when Temporal is back. Otherwise
        ``EngineUnavailable`` is raised (retrying with the same idempotency key is safe)."""
        if self.temporal is None:
            raise RuntimeError("This process starts no tickets (it has no facade).")
        accepted = self.accept(request)
        number = accepted.number
        if accepted.start is None:
            return CreatedTicket(number, ticket_workflow_id(number), accepted.state, created=False)
        try:
            confirmed = self.temporal.start_ticket(accepted.start)
        except EngineUnavailable:
            if not accept_if_down:
                raise
            return CreatedTicket(
                number, ticket_workflow_id(number), "", accepted.fresh, queued=True
            )
        return CreatedTicket(
            number, ticket_workflow_id(number), confirmed.state, created=accepted.fresh
        )

    def accept(
        self, request: NewTicket, *, also: Callable[[Session, Accepted], None] | None = None
    ) -> Accepted:
        """Check the request, then its one transaction (see the module's docstring); a request
        with the same key at the same moment makes the second attempt read what the first
        wrote. ``also`` writes the caller's own record of it in that transaction (mail: the
        inbound row's outcome). Raises IntakeInvalid."""
        request = self.validate(request)
        key = request.idempotency_key or f"auto:{uuid.uuid4()}"
        for _ in range(3):
            try:
                with transaction(self.sessions) as session:
                    accepted = self._accept(session, request, key)
                    if also is not None:
                        also(session, accepted)
            except IntegrityError:
                continue  # the same key was reserved concurrently: read it on the next pass
            if accepted.fresh:
                metrics.TICKETS_CREATED.labels(request.channel or "web").inc()
            return accepted
        raise RuntimeError("Could not reserve a ticket number.")

    def _accept(self, session: Session, request: NewTicket, key: str) -> Accepted:
        found = session.execute(
            select(Message.ticket_number, Message.id, Message.request_fingerprint).where(
                Message.idempotency_key == key
            )
        ).first()
        if found is not None:
            number, message_id, fingerprint = found
            if fingerprint and request.fingerprint and fingerprint != request.fingerprint:
                raise KeyReused()
            state = session.scalar(select(Ticket.state).where(Ticket.number == number))
            if state is not None:
                return Accepted(number, state=state, message_id=message_id)
            start = pending.recall(session, number)
            if start is None:  # accepted by a version that kept no start input
                start = self._start_input(request, self._pin(session, request), number, message_id)
            return Accepted(number, start=start, message_id=message_id)
        contact = find_contact(session, request.customer.email, request.customer.phone)
        refused = entitlements.refusal(session, contact, request.channel, date.today())
        if refused:  # only the web form and the API refuse (mail and calls are never dropped)
            raise IntakeInvalid({"entitlement": refused})
        pinned = self._pin(session, request)
        number = allocate_number(session, self.settings.ticket_number_template)
        message = Message(
            ticket_number=number,
            idempotency_key=key,
            request_fingerprint=request.fingerprint or None,
            channel=request.channel,
            sender_role="customer",
            author=request.customer.email or request.customer.phone,
            subject=request.subject,
            body=request.body,
        )
        if request.email is not None:
            store_email_parts(message, request.email)
        attach_files(message, request.attachments)
        session.add(message)
        session.flush()
        start = self._start_input(request, pinned, number, message.id)
        start.triggers = triggers.active(session)  # pinned, like the process; told of changes
        start.calendar = default_calendar(session) or {}  # for business-time state timeouts
        pending.remember(session, start)
        return Accepted(number, start=start, fresh=True, message_id=message.id)

    def _pin(self, session: Session, request: NewTicket) -> PinnedProcess:
        """The process the request names, else the routing rules' (``process`` in a rule's
        ``set``), else its channel's (a mailbox is a channel), else the default."""
        channel = (
            request.email.mailbox
            if request.email
            else (form_channel(request.form) if request.form else request.channel)
        )
        facts = Facts(
            channel=request.channel,
            mailbox=request.email.mailbox if request.email else "",
            form=request.form,
            order=request.order_number,
            subject=request.subject,
            body=request.body[:MAX_BODY],
            language=request.customer.language,
            fields=dict(request.fields),
        )
        ruled = "" if request.process else process_by_rules(session, facts)
        if ruled and processes.latest(session, ruled) is not None:
            return processes.pin(session, ruled)
        name = request.process or (
            session.scalar(select(Channel.process_name).where(Channel.name == channel))
            or self.settings.default_process
        )
        try:
            return processes.pin(session, name)
        except processes.UnknownProcess:
            raise IntakeInvalid({"process": f"There is no process '{name}'."}) from None

    @staticmethod
    def _start_input(
        request: NewTicket, pinned: PinnedProcess, number: str, message_id: int
    ) -> TicketStartInput:
        email = request.email
        return TicketStartInput(
            number=number,
            subject=request.subject,
            channel=request.channel,
            customer=request.customer,
            process=pinned,
            message_id=message_id,
            order_number=request.order_number,
            priority=request.priority,
            created_by=request.created_by,
            mailbox=email.mailbox if email else "",
            rfc_message_id=email.rfc_message_id if email else "",
            spam=email.spam if email else False,
            acknowledge=email.acknowledge if email else "",
            automatic=email.automatic if email else False,
            create_contact=email.create_contact if email else True,
            form=request.form,
            fields=dict(request.fields),
        )

    def resume_pending(self, *, older_than: timedelta | None = None, limit: int = 100) -> int:
        """``pending.resume_pending`` through this process's facade (the worker runs it on its
        own client)."""
        if self.temporal is None:
            raise RuntimeError("This process starts no tickets (it has no facade).")
        return self.temporal.run(
            lambda temporal: pending.resume_pending(
                self.sessions, self.settings, temporal, older_than=older_than, limit=limit
            )
        )


def store_email_parts(message: Message, email: EmailExtras) -> None:
    """Put a mail's HTML, Message-ID and attachments on its stored message."""
    message.html = email.html
    message.smtp_message_id = email.rfc_message_id or None
    message.inbound_id = email.inbound_id
    attach_files(message, email.attachments)


def attach_files(message: Message, files: Iterable[AttachmentData]) -> None:
    """Store files with a message (a mail's attachments, an agent's files with a reply)."""
    for part in files:
        message.attachments.append(
            Attachment(
                filename=part.filename,
                content_type=part.content_type,
                size=len(part.data),
                sha256=hashlib.sha256(part.data).hexdigest(),
                inline=part.inline,
                content_id=part.content_id,
                data=part.data,
            )
        )
