"""Forgetting a person, or old tickets: **delete** removes their tickets and everything keyed
by them; **anonymise** keeps each ticket's row, its messages' rows and its timeline (states,
times, channel, group, assignee, priority, scores: the statistics) and blanks every personal
value in them. Either way the contact goes (its history, portal links, password; orders stay,
unlinked: they are the shop's), with the raw mail they sent, the webhook bodies about their
tickets and the tickets' drafts, follows and read marks.

Temporal's half is the caller's: :class:`Forgotten` names the workflow ids whose histories
(which hold the customer's address and texts in their payloads) must be deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.contracts import Actor, LinkTicketInput
from tempodesk.core import audit
from tempodesk.core.db import transaction
from tempodesk.core.models import (
    AcknowledgementClaim,
    Attachment,
    AutoMailLog,
    Draft,
    Follow,
    InboundMessage,
    KbArticleLink,
    Message,
    Order,
    PendingStart,
    Presence,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketRating,
    TicketRead,
    TicketTag,
    WebhookDelivery,
)
from tempodesk.core.temporal import EngineUnavailable, MergeRefused
from tempodesk.tickets import processes
from tempodesk.tickets.relations import unlink_requests

from .subjects import digest, find_subject

Mode = Literal["anonymise", "delete"]
MODES: tuple[Mode, ...] = ("anonymise", "delete")
ANONYMOUS = "(anonymised)"


@dataclass
class Forgotten:
    """What was done: the tickets (numbers), the workflow ids to delete in Temporal."""

    mode: Mode
    contact: bool = False
    tickets: list[str] = field(default_factory=list)
    workflow_ids: list[str] = field(default_factory=list)


def forget_person(session: Session, email: str, mode: Mode) -> Forgotten:
    """Forget the person with this address: their tickets (deleted or anonymised), their
    contact, the mail they sent and every trace of the address in other tickets' messages."""
    subject = find_subject(session, email)
    done = forget_tickets(session, subject.tickets, mode)
    _forget_address(session, subject.email)
    if subject.contact is not None:
        session.execute(
            update(Order).where(Order.contact_id == subject.contact.id).values(contact_id=None)
        )
        session.delete(subject.contact)  # its history and portal links go with it (CASCADE)
        done.contact = True
    return done


def forget_everywhere(
    sessions: sessionmaker[Session],
    email: str,
    mode: Mode,
    delete_workflows: Callable[[list[str]], int],
    *,
    actor: str,
    actor_kind: str,
    address: str = "",
) -> tuple[Forgotten, int]:
    """Forget a person in Temporal, then in the database (the CLI's and the admin page's
    one way): the tickets' workflows first, since a running one would project again. The
    workflow runs deleted come second. The audit entry (``gdpr.forget``, the person named
    by ``digest``) is written with the database's half."""
    with sessions() as session:
        workflow_ids = [t.workflow_id for t in find_subject(session, email).tickets]
    deleted = delete_workflows(workflow_ids) if workflow_ids else 0
    with transaction(sessions) as session:
        done = forget_person(session, email, mode)
        audit.record(
            session,
            "gdpr.forget",
            actor=actor,
            actor_kind=actor_kind,
            object_type="person",
            object_id=digest(email),
            after={
                "mode": mode,
                "contact": done.contact,
                "tickets": len(done.tickets),
                "workflow_runs_deleted": deleted,
            },
            address=address,
        )
    return done, deleted


def delete_ticket_everywhere(
    sessions: sessionmaker[Session],
    number: str,
    delete_workflows: Callable[[list[str]], int],
    *,
    actor: Actor,
    unlink: Callable[[str, LinkTicketInput], object] | None = None,
) -> Forgotten | None:
    """Delete a ticket (spam, a test) for good, with the tickets merged into it (their
    messages are its): the open tickets linked to it unlink it first (``unlink`` asks one:
    a parent stops waiting for it), then their workflows go (a running one is terminated,
    so it cannot project again), then every row keyed by them, audited. None: no such
    ticket."""
    with sessions() as session:
        tickets = _with_merged(session, number)
        workflow_ids = [t.workflow_id for t in tickets]
        asks = unlink_requests(session, number, actor)
    if not tickets:
        return None
    for other, ask in asks:
        # That ticket has ended meanwhile, or Temporal is away: its row goes below anyway.
        with contextlib.suppress(MergeRefused, EngineUnavailable):
            if unlink is not None:
                unlink(other, ask)
    delete_workflows(workflow_ids)
    with transaction(sessions) as session:
        tickets = _with_merged(session, number)
        done = forget_tickets(session, tickets, "delete")
        audit.record(
            session,
            "ticket.delete",
            actor=actor.username,
            object_type="ticket",
            object_id=number,
            before={"tickets": done.tickets, "subject": tickets[0].subject if tickets else ""},
        )
    return done


def _with_merged(session: Session, number: str) -> list[Ticket]:
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        return []
    merged = session.scalars(select(Ticket).where(Ticket.merged_into == number))
    return [ticket, *merged]


def forget_tickets(session: Session, tickets: Sequence[Ticket], mode: Mode) -> Forgotten:
    """Delete or anonymise these tickets (the retention rule's step, and a person's)."""
    done = Forgotten(
        mode, tickets=[t.number for t in tickets], workflow_ids=[t.workflow_id for t in tickets]
    )
    numbers = done.tickets
    if not numbers:
        return done
    _forget_side_tables(session, numbers)
    if mode == "delete":
        _delete_tickets(session, numbers)
    else:
        for ticket in tickets:
            _anonymise_ticket(session, ticket)
        _anonymise_messages(session, numbers)
        session.execute(
            update(TicketEvent)
            .where(TicketEvent.ticket_number.in_(numbers))
            .values(actor="", data={})
        )
    session.flush()
    return done


def _forget_side_tables(session: Session, numbers: list[str]) -> None:
    """What neither mode keeps: raw mail, webhook bodies, drafts, marks, pending starts."""
    for model, column in (
        (InboundMessage, InboundMessage.ticket_number),
        (WebhookDelivery, WebhookDelivery.ticket_number),
        (Draft, Draft.ticket_number),
        (Follow, Follow.ticket_number),
        (TicketRead, TicketRead.ticket_number),
        (Presence, Presence.ticket_number),
        (PendingStart, PendingStart.ticket_number),
        (AcknowledgementClaim, AcknowledgementClaim.ticket_number),
        (AutoMailLog, AutoMailLog.ticket_number),
    ):
        session.execute(delete(model).where(column.in_(numbers)))
    message_ids = select(Message.id).where(Message.ticket_number.in_(numbers))
    session.execute(delete(Attachment).where(Attachment.message_id.in_(message_ids)))


def _delete_tickets(session: Session, numbers: list[str]) -> None:
    session.execute(delete(TicketLink).where(TicketLink.other_number.in_(numbers)))
    for model, column in (
        (TicketTag, TicketTag.ticket_number),
        (TicketLink, TicketLink.ticket_number),
        (TicketRating, TicketRating.ticket_number),
        (TicketEvent, TicketEvent.ticket_number),
        (KbArticleLink, KbArticleLink.ticket_number),
        (Message, Message.ticket_number),
        (Ticket, Ticket.number),
    ):
        session.execute(delete(model).where(column.in_(numbers)))


def _anonymise_ticket(session: Session, ticket: Ticket) -> None:
    ticket.subject = ANONYMOUS
    ticket.customer_email = ""
    ticket.customer_name = ANONYMOUS
    ticket.contact_id = None
    ticket.order_id = None
    ticket.fields = {}
    ticket.search_text = ticket.number
    if ticket.state_category not in ("closed", "merged"):
        _close(session, ticket)


def _close(session: Session, ticket: Ticket) -> None:
    """A ticket still open when its customer is forgotten has lost its workflow (deleted with
    its history), so its row goes to its process's closed state, the one a closed ticket of
    that version is in (reports read the category; the desk offers no buttons there)."""
    definition = processes.definition(session, ticket.process_name, ticket.process_version)
    closed = [s for s in definition.states if s.category == "closed"]
    closed.sort(key=lambda state: not state.final)  # a final one first
    if closed:
        ticket.state, ticket.state_label = closed[0].id, closed[0].label
        ticket.state_category = "closed"


def _anonymise_messages(session: Session, numbers: list[str]) -> None:
    """Each message keeps its row (channel, role, time: counted in reports), not its words.
    A rating's comment is a message (channel ``rating``), so it goes here too."""
    session.execute(
        update(Message)
        .where(Message.ticket_number.in_(numbers))
        .values(
            author="",
            recipient="",
            subject="",
            body="",
            html=None,
            delivery_detail="",
            idempotency_key=None,
            request_fingerprint=None,
            inbound_id=None,
            smtp_message_id=None,
        )
    )


def _forget_address(session: Session, address: str) -> None:
    """The address in other people's tickets (a copy, a forward) and in mail logs."""
    session.execute(delete(InboundMessage).where(InboundMessage.sender == address))
    session.execute(delete(AutoMailLog).where(AutoMailLog.recipient == address))
    session.execute(delete(AcknowledgementClaim).where(AcknowledgementClaim.recipient == address))
    session.execute(update(Message).where(Message.author == address).values(author=ANONYMOUS))
    session.execute(update(Message).where(Message.recipient == address).values(recipient=""))
    session.execute(update(TicketEvent).where(TicketEvent.actor == address).values(actor=ANONYMOUS))
