"""Intake: a new request becomes a ticket, exactly once.

1. Check the request (sizes, the email address) and refuse it whole if it is bad.
2. In one transaction, look up the idempotency key; if it is new, reserve a ticket number,
   store the customer's message (the claim check: its body never enters workflow history)
   and the workflow's start input (``PendingStart``).
3. Start the ticket's workflow with update-with-start (``USE_EXISTING``), which answers once
   the ticket is projected into the database; then forget the pending start.

A retry with the same key, at any point, finds the same number and joins the same workflow.
A start Temporal never confirmed (it was away, the web process died) is made by the worker
(``resume_pending``), so a stored request always becomes a ticket.
"""

from __future__ import annotations

import hashlib
import logging
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from statemachines import PRIORITIES
from tempodesk.contracts import CustomerRef, TicketStartInput, ticket_workflow_id
from tempodesk.core.db import transaction
from tempodesk.core.models import Attachment, Channel, Message, PendingStart, Ticket, TicketCounter
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import EngineUnavailable, TemporalFacade
from tempodesk.people.addresses import is_valid_email, normalize_email, normalize_phone
from tempodesk.tickets import processes

CHANNELS = ("api", "web", "email", "phone", "walk_in")


log = logging.getLogger(__name__)


class IntakeInvalid(ValueError):
    """The request cannot become a ticket; ``errors`` maps a field to a readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class NewTicket:
    subject: str
    body: str
    customer: CustomerRef
    channel: str = "api"
    order_number: str = ""
    priority: int = 2
    idempotency_key: str = ""
    created_by: str = ""  # the agent who entered it, if any
    process: str = ""  # a published process; else the channel's; else the default
    email: EmailExtras | None = None  # what a ticket from a mailbox brings along


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


@dataclass
class AttachmentData:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


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
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], engine: TemporalFacade):
        self.settings = settings
        self.sessions = sessions
        self.engine = engine

    def validate(self, request: NewTicket) -> NewTicket:
        """Normalise the request or raise IntakeInvalid with every problem."""
        errors: dict[str, str] = {}
        subject = " ".join(request.subject.split())
        if not subject:
            errors["subject"] = "Enter a subject."
        elif len(subject) > self.settings.max_subject_chars:
            errors["subject"] = f"At most {self.settings.max_subject_chars} characters."
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
        if len(name) > 200:
            errors["name"] = "At most 200 characters."
        order = request.order_number.strip()
        if len(order) > 64:
            errors["order_number"] = "At most 64 characters."
        if request.channel not in CHANNELS:
            errors["channel"] = f"Use one of: {', '.join(CHANNELS)}."
        if request.priority not in PRIORITIES:
            errors["priority"] = "Use 1 (low) to 4 (urgent)."
        if len(request.idempotency_key) > 150:
            errors["idempotency_key"] = "At most 150 characters."
        if errors:
            raise IntakeInvalid(errors)
        return NewTicket(
            subject=subject,
            body=body,
            customer=CustomerRef(email=email, name=name, phone=phone),
            channel=request.channel,
            order_number=order,
            priority=request.priority,
            idempotency_key=request.idempotency_key,
            created_by=request.created_by,
            process=request.process.strip(),
            email=request.email,
        )

    def create_ticket(self, request: NewTicket, *, accept_if_down: bool = False) -> CreatedTicket:
        """Create the ticket (or find the one this idempotency key created) and return it.

        The request is stored, its number reserved and its start remembered (``PendingStart``)
        in one transaction before Temporal is asked. With ``accept_if_down``, a ticket engine
        that does not answer still gives a number (``queued``): the worker starts the ticket
        when Temporal is back. Otherwise ``EngineUnavailable`` is raised (retrying with the
        same idempotency key is safe either way)."""
        request = self.validate(request)
        with self.sessions() as session:
            channel = request.email.mailbox if request.email else request.channel
            process_name = request.process or self._process_for(session, channel)
            try:
                pinned = processes.pin(session, process_name)
            except processes.UnknownProcess:
                raise IntakeInvalid({"process": f"There is no process '{process_name}'."}) from None
        key = request.idempotency_key or f"auto:{uuid.uuid4()}"
        email = request.email

        def start_input(number: str, message_id: int) -> TicketStartInput:
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
                create_contact=email.create_contact if email else True,
            )

        number, start, fresh = self._reserve(request, key, start_input)
        with self.sessions() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket is not None:
                return CreatedTicket(number, ticket.workflow_id, ticket.state, created=False)
        try:
            snapshot = self.engine.start_ticket(start)
        except EngineUnavailable:
            if not accept_if_down:
                raise
            return CreatedTicket(number, ticket_workflow_id(number), "", fresh, queued=True)
        self._started(number)
        return CreatedTicket(number, ticket_workflow_id(number), snapshot.state, created=fresh)

    def resume_pending(self, *, older_than: timedelta | None = None, limit: int = 100) -> int:
        """Start the tickets accepted but not confirmed started at least ``older_than`` ago
        (``resume_pending_seconds`` by default: younger ones may still be waiting in their
        web request) because the engine was down or the web process died after storing the
        request. Returns how many were started now; stops at the first one the engine does
        not answer for (starting one twice is harmless: it is update-with-start by number)."""
        if older_than is None:
            older_than = timedelta(seconds=self.settings.resume_pending_seconds)
        cutoff = datetime.now(UTC) - older_than
        with self.sessions() as session:
            waiting = list(
                session.scalars(
                    select(PendingStart)
                    .where(PendingStart.created_at <= cutoff)
                    .order_by(PendingStart.created_at)
                    .limit(limit)
                )
            )
        started = 0
        for pending in waiting:
            with self.sessions() as session:
                exists = session.scalar(
                    select(Ticket.id).where(Ticket.number == pending.ticket_number)
                )
            if exists is None:
                try:
                    self.engine.start_ticket(_decode_start(pending.payload))
                except EngineUnavailable as exc:
                    self._attempted(pending.ticket_number, str(exc))
                    log.warning("ticket %s still waits for the engine", pending.ticket_number)
                    break
                except Exception as exc:  # kept (with the reason) for ops; the rest go on
                    self._attempted(pending.ticket_number, f"{type(exc).__name__}: {exc}")
                    log.exception("ticket %s could not be started", pending.ticket_number)
                    continue
                started += 1
                log.info(
                    "started ticket %s, accepted while the engine was away", pending.ticket_number
                )
            self._started(pending.ticket_number)
        return started

    def _attempted(self, number: str, error: str) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                update(PendingStart)
                .where(PendingStart.ticket_number == number)
                .values(attempts=PendingStart.attempts + 1, last_error=error[:2000])
            )

    def _started(self, number: str) -> None:
        with transaction(self.sessions) as session:
            session.execute(delete(PendingStart).where(PendingStart.ticket_number == number))

    def _process_for(self, session: Session, channel: str) -> str:
        configured = session.scalar(select(Channel.process_name).where(Channel.name == channel))
        return configured or self.settings.default_process

    def _reserve(
        self,
        request: NewTicket,
        key: str,
        start_input: Callable[[str, int], TicketStartInput],
    ) -> tuple[str, TicketStartInput, bool]:
        """(number, the workflow's start input, newly reserved?) for this key: the message,
        the number and the pending start in one transaction."""
        for _ in range(3):
            try:
                with transaction(self.sessions) as session:
                    found = session.execute(
                        select(Message.ticket_number, Message.id).where(
                            Message.idempotency_key == key
                        )
                    ).first()
                    if found is not None:
                        pending = session.get(PendingStart, found[0])
                        if pending is not None:
                            return found[0], _decode_start(pending.payload), False
                        return found[0], start_input(found[0], found[1]), False
                    number = allocate_number(session, self.settings.ticket_number_template)
                    message = Message(
                        ticket_number=number,
                        idempotency_key=key,
                        channel=request.channel,
                        sender_role="customer",
                        author=request.customer.email or request.customer.phone,
                        subject=request.subject,
                        body=request.body,
                    )
                    if request.email is not None:
                        store_email_parts(message, request.email)
                    session.add(message)
                    session.flush()
                    start = start_input(number, message.id)
                    session.add(PendingStart(ticket_number=number, payload=_encode_start(start)))
                    return number, start, True
            except IntegrityError:
                continue  # the same key was reserved concurrently: read it on the next pass
        raise RuntimeError("Could not reserve a ticket number.")


def _encode_start(start: TicketStartInput) -> str:
    """The start input as Temporal's JSON (what the workflow would receive)."""
    [payload] = DataConverter.default.payload_converter.to_payloads([start])
    return payload.data.decode("utf-8")


def _decode_start(text: str) -> TicketStartInput:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=text.encode("utf-8"))
    [start] = DataConverter.default.payload_converter.from_payloads([payload], [TicketStartInput])
    assert isinstance(start, TicketStartInput)
    return start


_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$")


def store_email_parts(message: Message, email: EmailExtras) -> None:
    """Put a mail's HTML, Message-ID and attachments on its stored message."""
    message.html = email.html
    message.smtp_message_id = email.rfc_message_id or None
    message.inbound_id = email.inbound_id
    for part in email.attachments:
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


class _Sequence:
    def __format__(self, spec: str) -> str:
        return "#"


def check_number_template(template: str) -> None:
    """Refuse templates with unknown placeholders or without a sequence."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    if "seq" not in names or names - {"seq", "year", "month"}:
        raise ValueError("The ticket number template needs {seq} and may use {year}, {month}.")
    sample = template.format(year=2026, month="01", seq=1)
    if not _NUMBER.match(sample):
        raise ValueError("Ticket numbers may contain only letters, digits, '.', '_' and '-'.")


def allocate_number(session: Session, template: str) -> str:
    """The next ticket number; sequences restart whenever the rest of the template changes."""
    check_number_template(template)
    now = datetime.now(UTC)
    scope = template.format(year=now.year, month=f"{now.month:02d}", seq=_Sequence())[:64]
    insert_stmt = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    session.execute(
        insert_stmt(TicketCounter).values(scope=scope, value=0).on_conflict_do_nothing()
    )
    value = session.execute(
        update(TicketCounter)
        .where(TicketCounter.scope == scope)
        .values(value=TicketCounter.value + 1)
        .returning(TicketCounter.value)
    ).scalar_one()
    return template.format(year=now.year, month=f"{now.month:02d}", seq=value)
