"""Read queries over the projection, shared by the desk and the API.

Every read goes through ``visible_tickets`` so an agent never sees a ticket whose state their
groups may not see, whichever page or endpoint asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session, object_session, selectinload

from statemachines import ProcessDefinition, in_language, may_see
from tempodesk.contracts import MERGED, Actor, TicketLinkRef, TicketSnapshot
from tempodesk.core.db import iso
from tempodesk.core.models import (
    Attachment,
    Contact,
    Message,
    Order,
    Organisation,
    Ticket,
    TicketEvent,
    User,
)
from tempodesk.people.contacts import account_owner, get_contact, orders_of
from tempodesk.sla.entitlements import Balance, ticket_balances
from tempodesk.sla.view import sla_targets, state_of
from tempodesk.tickets import processes


def visibility_clause(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """A WHERE clause keeping the tickets whose state the actor may see (None: all of them)."""
    if actor.is_admin:
        return None
    # Published versions are few; tickets are many: ask the small table (in one read).
    clauses = []
    restricted = False
    for name, version, definition in processes.published(session):
        visible = [s.id for s in definition.states if may_see(definition, s.id, actor)]
        if len(visible) != len(definition.states):
            restricted = True
        if visible:
            visible.append(MERGED)  # a merged ticket (in no state of its process) points on
            clauses.append(
                and_(
                    Ticket.process_name == name,
                    Ticket.process_version == version,
                    Ticket.state.in_(visible),
                )
            )
    if not restricted:
        return None
    return or_(*clauses) if clauses else false()


def visible_tickets(session: Session, actor: Actor) -> Select[Ticket]:
    stmt = select(Ticket)
    clause = visibility_clause(session, actor)
    return stmt if clause is None else stmt.where(clause)


@dataclass
class TicketView:
    ticket: Ticket
    definition: ProcessDefinition
    events: list[TicketEvent]
    messages: dict[int, Message]
    other_tickets: list[Ticket] = field(default_factory=list)


def find_ticket(session: Session, number: str, actor: Actor) -> Ticket | None:
    """Just the ticket row, if it exists and the actor may see it."""
    return session.scalar(visible_tickets(session, actor).where(Ticket.number == number))


def get_ticket(
    session: Session, number: str, actor: Actor, *, others: bool = True
) -> TicketView | None:
    """The ticket with its timeline, or None if unknown or not visible to the actor (with
    ``others``, the customer's other tickets too: the desk's page shows them, the API not)."""
    ticket = session.scalar(
        visible_tickets(session, actor)
        .where(Ticket.number == number)
        .options(selectinload(Ticket.contact).selectinload(Contact.organisation))
        .options(selectinload(Ticket.order))
    )
    if ticket is None:
        return None
    definition = processes.definition(session, ticket.process_name, ticket.process_version)
    # A ticket merged into this one keeps its events (numbered by its own workflow); they
    # show on this timeline beside this ticket's, in time order (its messages moved here).
    merged = select(Ticket.number).where(Ticket.merged_into == number).scalar_subquery()
    events = list(
        session.scalars(
            select(TicketEvent)
            .where(or_(TicketEvent.ticket_number == number, TicketEvent.ticket_number.in_(merged)))
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )
    messages = {
        m.id: m
        for m in session.scalars(
            select(Message)
            .where(Message.ticket_number == number)
            .where(Message.attached.is_(True))
            .options(selectinload(Message.attachments).defer(Attachment.data))
        )
    }
    found: list[Ticket] = []
    if others and ticket.contact_id is not None:
        found = list(
            session.scalars(
                visible_tickets(session, actor)
                .where(Ticket.contact_id == ticket.contact_id)
                .where(Ticket.id != ticket.id)
                .order_by(Ticket.id.desc())
                .limit(10)
            )
        )
    return TicketView(ticket, definition, events, messages, found)


def snapshot_of(ticket: Ticket) -> TicketSnapshot:
    """The workflow's view of a ticket rebuilt from its projection (to restore a closed one)."""
    return TicketSnapshot(
        number=ticket.number,
        subject=ticket.subject,
        state=ticket.state,
        state_label=ticket.state_label,
        state_category=ticket.state_category,
        process_name=ticket.process_name,
        process_version=ticket.process_version,
        channel=ticket.channel,
        priority=ticket.priority,
        assignee=ticket.assignee,
        group=ticket.group_name,
        contact_id=ticket.contact_id,
        order_id=ticket.order_id,
        customer_email=ticket.customer_email,
        customer_name=ticket.customer_name,
        fields=dict(ticket.fields or {}),
        seq=ticket.event_seq,
        created_at=iso(ticket.created_at) or "",
        updated_at=iso(ticket.updated_at) or "",
        state_entered_at=iso(ticket.updated_at) or "",
        mailbox=ticket.mailbox or "",
        form=ticket.form or "",
        rating_asked_seq=ticket.rating_asked_seq or 0,
        rating_agent=ticket.rating_agent or "",
        rating_score=ticket.rating_score or 0,
        rated_at=iso(ticket.rated_at) or "",
        sla=state_of(ticket.sla),
        merged_into=ticket.merged_into or "",
        tags=ticket.tags,
        links=[TicketLinkRef(r.other_number, r.kind, r.wait) for r in ticket.link_rows],
        time_spent=ticket.time_spent or 0,
    )


def event_message_ids(event: TicketEvent) -> list[int]:
    ids = event.data.get("message_ids") if isinstance(event.data, dict) else None
    if isinstance(ids, list):
        return [i for i in ids if isinstance(i, int)]
    return [event.message_id] if event.message_id else []


def ticket_summary(ticket: Ticket, public_url: str) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "workflow_id": ticket.workflow_id,
        "subject": ticket.subject,
        "state": ticket.state,
        "state_label": ticket.state_label,
        "state_category": ticket.state_category,
        "assignee": ticket.assignee,
        "group": ticket.group_name,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "customer_email": ticket.customer_email,
        "customer_name": ticket.customer_name,
        "process": {"name": ticket.process_name, "version": ticket.process_version},
        "form": ticket.form,
        "fields": dict(ticket.fields or {}),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "url": f"{public_url}/desk/tickets/{ticket.number}",
        "merged_into": ticket.merged_into,  # merged: the ticket that took its messages
        "tags": ticket.tags,
    }


def entitlement_balances(ticket: Ticket) -> list[Balance]:
    """What the ticket's customer has left of the entitlements that apply to it (the ticket
    page's panel, the API's ``entitlements``)."""
    session = object_session(ticket)
    if session is None or ticket.contact_id is None:
        return []
    day = datetime.now(UTC).date()
    return ticket_balances(session, ticket.number, ticket.contact_id, ticket.channel, day)


def ticket_detail(view: TicketView, public_url: str) -> dict[str, Any]:
    ticket = view.ticket
    data = ticket_summary(ticket, public_url)
    contact = ticket.contact
    data["customer"] = {
        "id": contact.id if contact else None,
        "name": (contact.name if contact else "") or ticket.customer_name,
        "email": (contact.email if contact else None) or ticket.customer_email or None,
        "phone": contact.phone if contact else None,
        "organisation": contact.organisation.name if contact and contact.organisation else None,
        "account_owner": contact.account_owner if contact else None,
    }
    data["sla"] = sla_targets(ticket.sla, datetime.now(UTC))
    data["time_spent"] = ticket.time_spent or 0
    data["entitlements"] = [
        {"name": b.entitlement.name, "unit": b.entitlement.unit, "remaining": b.remaining_text}
        for b in entitlement_balances(ticket)
    ]
    data["order"] = (
        {
            "number": ticket.order.number,
            "status": ticket.order.status,
            "total": ticket.order.total,
            "placed_at": iso(ticket.order.placed_at),
            "items": ticket.order.items,
        }
        if ticket.order
        else None
    )
    data["messages"] = [
        {
            "id": m.id,
            "sender_role": m.sender_role,
            "channel": m.channel,
            "internal": m.internal,
            "author": m.author,
            "subject": m.subject,
            "body": m.body,
            "created_at": iso(m.created_at),
            "delivery_status": m.delivery_status,
        }
        for m in sorted(view.messages.values(), key=lambda m: m.id)
    ]
    data["events"] = [
        {
            "seq": e.seq,
            "kind": e.kind,
            "action": e.action,
            "actor": e.actor,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "message_ids": event_message_ids(e),
            "data": e.data,
            "at": iso(e.at),
        }
        for e in view.events
    ]
    return data


def active_agents(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.username))
    )


# What the desk shows of a customer's tickets
MAX_MESSAGES = 200  # "all communication" on a contact's page: the newest ones


def tickets_of(session: Session, actor: Actor, contact_ids: list[int]) -> list[Ticket]:
    """The tickets of these contacts that the agent may see, newest first."""
    if not contact_ids:
        return []
    return list(
        session.scalars(
            visible_tickets(session, actor)
            .where(Ticket.contact_id.in_(contact_ids))
            .order_by(Ticket.id.desc())
        )
    )


def messages_of(session: Session, actor: Actor, contact_id: int) -> list[Message]:
    """All communication with a contact: the messages on their visible tickets, newest first."""
    visible = (
        visible_tickets(session, actor)
        .where(Ticket.contact_id == contact_id)
        .with_only_columns(Ticket.number)
    )
    return list(
        session.scalars(
            select(Message)
            .where(Message.ticket_number.in_(visible.scalar_subquery()))
            .where(Message.attached.is_(True))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(MAX_MESSAGES)
        )
    )


@dataclass
class CustomerPanel:
    """What the ticket page shows about the customer, next to the timeline."""

    contact: Contact | None
    organisation: Organisation | None
    account_owner: str
    orders: list[Order]
    tickets: int  # how many tickets of theirs the agent may see


def customer_panel(session: Session, actor: Actor, ticket: Ticket) -> CustomerPanel:
    contact = get_contact(session, ticket.contact_id) if ticket.contact_id else None
    orders = orders_of(session, contact.id) if contact else []
    count = (
        session.scalar(
            select(func.count()).select_from(
                visible_tickets(session, actor).where(Ticket.contact_id == contact.id).subquery()
            )
        )
        if contact
        else 0
    )
    return CustomerPanel(
        contact=contact,
        organisation=contact.organisation if contact else None,
        account_owner=account_owner(contact),
        orders=orders,
        tickets=count or 0,
    )


def tickets_of_order(session: Session, actor: Actor, order_id: int) -> list[Ticket]:
    return list(
        session.scalars(
            visible_tickets(session, actor)
            .where(Ticket.order_id == order_id)
            .order_by(Ticket.id.desc())
        )
    )


# What a customer sees in the portal: their own tickets, and of each only the public history


def _customers(contact: Contact) -> ColumnElement[bool]:
    """The tickets of this contact: linked to them, or (not linked to anyone) from their address."""
    mine = Ticket.contact_id == contact.id
    if not contact.email:
        return mine
    return or_(mine, and_(Ticket.contact_id.is_(None), Ticket.customer_email == contact.email))


def customer_tickets(session: Session, contact: Contact) -> list[Ticket]:
    """A customer's own tickets, newest first."""
    return list(
        session.scalars(select(Ticket).where(_customers(contact)).order_by(Ticket.id.desc()))
    )


def customer_ticket(session: Session, contact: Contact, number: str) -> Ticket | None:
    """One of the customer's own tickets (None: unknown or someone else's, told alike)."""
    return session.scalar(select(Ticket).where(Ticket.number == number, _customers(contact)))


# The organisation view: where an organisation shares its requests (``portal_shared``, set on
# the desk by those who manage every customer), its members read each other's requests. Read
# only: replies and actions stay the requester's own (the workflow's ``check_action`` gives a
# customer actor only their own request too).


@dataclass(frozen=True)
class PortalAccess:
    """A request the portal may show a customer: ``own`` (read, reply, act) or a colleague's
    their organisation shares (read only)."""

    ticket: Ticket
    own: bool


def _colleagues(session: Session, contact: Contact) -> ColumnElement[bool] | None:
    """The tickets of the contact's colleagues, if their organisation shares requests."""
    if contact.organisation_id is None:
        return None
    shared = session.scalar(
        select(Organisation.portal_shared).where(Organisation.id == contact.organisation_id)
    )
    if not shared:
        return None
    colleagues = select(Contact.id).where(
        Contact.organisation_id == contact.organisation_id, Contact.id != contact.id
    )
    return Ticket.contact_id.in_(colleagues)


def shares_organisation(session: Session, contact: Contact) -> bool:
    """Whether the contact gets "my organisation's requests"."""
    return _colleagues(session, contact) is not None


def organisation_tickets(session: Session, contact: Contact) -> list[Ticket]:
    """The colleagues' requests the contact may read, newest first (none: not shared)."""
    clause = _colleagues(session, contact)
    if clause is None:
        return []
    return list(session.scalars(select(Ticket).where(clause).order_by(Ticket.id.desc())))


def portal_ticket(session: Session, contact: Contact, number: str) -> PortalAccess | None:
    """The one check of every portal page on a request: the customer's own, or a colleague's
    their organisation shares; None (unknown or not theirs to see) is told alike as 404."""
    own = customer_ticket(session, contact, number)
    if own is not None:
        return PortalAccess(own, True)
    clause = _colleagues(session, contact)
    if clause is None:
        return None
    shared = session.scalar(select(Ticket).where(Ticket.number == number, clause))
    return None if shared is None else PortalAccess(shared, False)


def customer_label(session: Session, ticket: Ticket, languages: Sequence[str] = ()) -> str:
    """The ticket's state in the customer's wording (the state's ``customer_label``), in the
    first of ``languages`` the definition has it in (else its English, else first, text)."""
    definition = processes.definition(session, ticket.process_name, ticket.process_version)
    try:
        state = definition.state(ticket.state)
    except KeyError:
        return ticket.state_label
    if state.customer_labels:
        return in_language(state.customer_label, state.customer_labels, languages)
    if state.labels and state.customer_label == state.label:
        return in_language(state.label, state.labels, languages)
    return state.customer_label or state.label


def _public(number: str) -> ColumnElement[bool]:
    """The messages of a ticket a customer may read."""
    return and_(
        Message.ticket_number == number,
        Message.attached.is_(True),
        Message.internal.is_(False),
        Message.sender_role.in_(("customer", "agent")),
    )


def public_history(session: Session, number: str) -> list[Message]:
    """What the customer may read of a ticket: their messages and the agents' public replies
    (never internal notes, events, assignments or fields), oldest first, with their
    attachments' names (not their data)."""
    return list(
        session.scalars(
            select(Message)
            .where(_public(number))
            .options(selectinload(Message.attachments).defer(Attachment.data))
            .order_by(Message.created_at, Message.id)
        )
    )


def public_attachment(session: Session, number: str, attachment_id: int) -> Attachment | None:
    """An attachment of one of the ticket's public messages (None: of anything else)."""
    return session.scalar(
        select(Attachment)
        .join(Message, Attachment.message_id == Message.id)
        .where(Attachment.id == attachment_id, _public(number))
    )
