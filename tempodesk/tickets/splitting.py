"""Splitting a customer's message off into a new ticket.

The web opens the new ticket through intake (the same customer and process, the message's
text as its opening message, keyed by ticket and message so a retry opens it once), then
asks the ticket the message leaves (``UPDATE_SPLIT_MESSAGE``): its workflow tells the new
ticket and its projection moves the rest of the message there (files, Message-ID, raw
mail) and removes it here (``activities.projection``). Nothing here writes a ticket.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.contracts import (
    MERGED,
    UPDATE_SPLIT_MESSAGE,
    Actor,
    CustomerRef,
    SplitMessageInput,
    SplitMessageResult,
)
from tempodesk.core.models import Contact, Message, TicketEvent
from tempodesk.core.temporal import TemporalFacade, TicketNotFound
from tempodesk.tickets.intake import CHANNELS, Intake, IntakeInvalid, NewTicket
from tempodesk.tickets.queries import find_ticket


def _key(number: str, message_id: int) -> str:
    """The new ticket's idempotency key: one new ticket per message split off."""
    return f"split:{number}:{message_id}"


class SplitInvalid(ValueError):
    """The split cannot be asked for; ``str()`` says why (English: the web translates it)."""


def split_request(session: Session, actor: Actor, number: str, message_id: int) -> NewTicket:
    """The new ticket to open for message ``message_id`` of ticket ``number``.
    TicketNotFound: unknown or hidden; SplitInvalid: why not."""
    source = find_ticket(session, number, actor)
    if source is None:
        raise TicketNotFound(number)
    message = session.scalar(
        select(Message).where(
            Message.id == message_id,
            Message.ticket_number == source.number,
            Message.attached.is_(True),
        )
    )
    if message is None:
        raise SplitInvalid("There is no such message on this ticket.")
    if message.sender_role != "customer":
        raise SplitInvalid("Only a customer's message can be split off.")
    if source.state_category in ("closed", MERGED):
        raise SplitInvalid("This ticket is closed; it cannot be split.")
    first = session.scalar(
        select(TicketEvent.message_id).where(
            TicketEvent.ticket_number == source.number, TicketEvent.kind == "created"
        )
    )
    if first == message.id:
        raise SplitInvalid("The ticket's first message cannot be split off.")
    contact = session.get(Contact, source.contact_id) if source.contact_id else None
    return NewTicket(
        subject=message.subject or source.subject,
        body=message.body if message.body.strip() else "-",
        customer=CustomerRef(
            email=source.customer_email,
            name=source.customer_name,
            phone="" if source.customer_email else (contact.phone or "" if contact else ""),
        ),
        channel=message.channel if message.channel in CHANNELS else "api",
        idempotency_key=_key(source.number, message.id),
        created_by=actor.username,
        process=source.process_name,
    )


def _split_already(session: Session, number: str, message_id: int) -> str | None:
    """The new ticket of a split done before (the message has left this ticket)."""
    if session.scalar(
        select(Message.id).where(Message.id == message_id, Message.ticket_number == number)
    ):
        return None
    return session.scalar(
        select(Message.ticket_number).where(Message.idempotency_key == _key(number, message_id))
    )


def split(
    intake: Intake,
    temporal: TemporalFacade,
    actor: Actor,
    number: str,
    message_id: int,
    request_id: str | None = None,
) -> str:
    """Split the message off into a new ticket (opened first, once); its number.
    SplitInvalid, TicketNotFound; RelationRefused (the ticket's reason); EngineUnavailable."""
    with intake.sessions() as session:
        done = _split_already(session, number, message_id)
        if done is not None and find_ticket(session, number, actor) is not None:
            return done  # asked again after it was done: the same new ticket
        request = split_request(session, actor, number, message_id)
    try:
        created = intake.create_ticket(request)
    except IntakeInvalid as exc:  # a subject or text the new ticket cannot take
        raise SplitInvalid(str(exc)) from None
    with intake.sessions() as session:
        copy_id = session.scalar(
            select(Message.id).where(Message.idempotency_key == request.idempotency_key)
        )
    assert copy_id is not None  # intake stored it under this key
    ask = SplitMessageInput(message_id, created.number, copy_id, actor)
    temporal.relate(number, UPDATE_SPLIT_MESSAGE, ask, SplitMessageResult, request_id)
    return created.number
