"""Database activities of a ticket: link the customer, choose the assignee, write the projection.

They run as *local* activities (short database steps, no extra round trip through the
Temporal server) and are safe to run twice: every write is an upsert or guarded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from tempodesk.contracts import (
    ACT_CHOOSE_ASSIGNEE,
    ACT_LINK_CUSTOMER,
    ACT_PROJECT,
    AssignmentInput,
    AssignmentResult,
    LinkCustomerInput,
    LinkCustomerResult,
    ProjectionInput,
)
from tempodesk.core.db import transaction
from tempodesk.core.models import Channel, Contact, Message, Order, Ticket, TicketEvent, User
from tempodesk.core.settings import Settings
from tempodesk.people.addresses import normalize_email, normalize_phone
from tempodesk.tickets import lists

# A later delivery status never gives way to an earlier one.
_DELIVERY_RANK = {None: 0, "queued": 1, "sent": 2, "failed": 2}


class TicketStore:
    """Activities that read and write the ticket projection and the reference data."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings):
        self.sessions = session_factory
        self.settings = settings

    @activity.defn(name=ACT_LINK_CUSTOMER)
    def link_customer(self, input: LinkCustomerInput) -> LinkCustomerResult:
        """Find the customer's contact by email or phone (creating it if new); link the order."""
        email = normalize_email(input.customer.email)
        phone = normalize_phone(input.customer.phone)
        name = input.customer.name.strip()
        with transaction(self.sessions) as session:
            contact = self._find_or_create_contact(
                session, email, phone, name, create=input.create_contact
            )
            result = LinkCustomerResult(
                contact_id=contact.id if contact else None,
                customer_email=email or (contact.email or "" if contact else ""),
                customer_name=name or (contact.name if contact else ""),
            )
            number = input.order_number.strip()
            if number:
                order = session.scalar(
                    select(Order).where(func.upper(Order.number) == number.upper())
                )
                if order is None:
                    result.order_note = f"No order {number} was found."
                elif order.contact_id not in (None, result.contact_id):
                    # Typing someone else's order number must not attach their order.
                    result.order_note = f"Order {order.number} belongs to another customer."
                else:
                    result.order_id = order.id
        return result

    def _find_or_create_contact(
        self, session: Session, email: str, phone: str, name: str, *, create: bool = True
    ) -> Contact | None:
        contact = None
        if email:
            contact = session.scalar(select(Contact).where(Contact.email == email))
        if contact is None and email and "+" in email.split("@")[0]:
            # Plus-addressing: jana+shop@example.com is jana@example.com.
            local, _, domain = email.partition("@")
            base = f"{local.split('+', 1)[0]}@{domain}"
            contact = session.scalar(select(Contact).where(Contact.email == base))
        if contact is None and phone:
            contact = session.scalar(
                select(Contact).where(Contact.phone == phone).order_by(Contact.id).limit(1)
            )
        if contact is None and (email or phone) and create:
            try:
                with session.begin_nested():
                    contact = Contact(email=email or None, phone=phone or None, name=name)
                    session.add(contact)
            except IntegrityError:
                # The same new customer wrote twice at once: the other ticket created them.
                contact = session.scalar(select(Contact).where(Contact.email == email))
        if contact is not None:
            if name and not contact.name:
                contact.name = name
            if phone and not contact.phone:
                contact.phone = phone
            session.flush()
        return contact

    @activity.defn(name=ACT_CHOOSE_ASSIGNEE)
    def choose_assignee(self, input: AssignmentInput) -> AssignmentResult:
        """The customer's account owner, else the channel's owner, else the helpdesk default."""
        with self.sessions() as session:
            active = set(session.scalars(select(User.username).where(User.is_active.is_(True))))
            channel = session.scalar(select(Channel).where(Channel.name == input.channel))
            group = (channel.group_name if channel else None) or self.settings.default_group or None
            if input.contact_id is not None:
                contact = session.get(Contact, input.contact_id)
                owners = [contact.account_owner] if contact else []
                if contact and contact.organisation:
                    owners.append(contact.organisation.account_owner)
                for owner in owners:
                    if owner in active:
                        return AssignmentResult(owner, group, "account_owner")
            if channel and channel.owner in active:
                return AssignmentResult(channel.owner, group, "channel_owner")
            default = self.settings.default_assignee
            if default in active:
                return AssignmentResult(default, group, "default")
            return AssignmentResult(None, group, "default" if group else "none")

    @activity.defn(name=ACT_PROJECT)
    def project(self, input: ProjectionInput) -> None:
        """Write the ticket row, its new events and its messages; never move a ticket backwards."""
        snap = input.snapshot
        with transaction(self.sessions) as session:
            values: dict[str, Any] = {
                "number": snap.number,
                "workflow_id": f"ticket-{snap.number}",
                "event_seq": snap.seq,
                "subject": snap.subject,
                "state": snap.state,
                "state_label": snap.state_label,
                "state_category": snap.state_category,
                "process_name": snap.process_name,
                "process_version": snap.process_version,
                "channel": snap.channel,
                "priority": snap.priority,
                "assignee": snap.assignee,
                "group_name": snap.group,
                "contact_id": snap.contact_id,
                "order_id": snap.order_id,
                "customer_email": snap.customer_email,
                "customer_name": snap.customer_name,
                "mailbox": snap.mailbox or None,
                "fields": snap.fields,
                "created_at": _parse_time(snap.created_at),
                "updated_at": _parse_time(snap.updated_at),
            }
            insert = _insert_for(session)
            stmt = insert(Ticket).values(**values)
            changed = {k: stmt.excluded[k] for k in values if k not in ("number", "created_at")}
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Ticket.number],
                    set_=changed,
                    where=Ticket.event_seq < stmt.excluded.event_seq,
                )
            )
            for event in input.events:
                session.execute(
                    insert(TicketEvent)
                    .values(
                        ticket_number=snap.number,
                        seq=event.seq,
                        kind=event.kind,
                        action=event.action,
                        actor=event.actor,
                        from_state=event.from_state,
                        to_state=event.to_state,
                        message_id=event.message_id,
                        data=event.data,
                        at=_parse_time(event.at),
                    )
                    .on_conflict_do_nothing(index_elements=["ticket_number", "seq"])
                )
            for attachment in input.messages:
                # Only a message stored for this very ticket can be attached to it.
                message = session.scalar(
                    select(Message)
                    .where(Message.id == attachment.message_id)
                    .where(Message.ticket_number == snap.number)
                    .with_for_update()
                )
                if message is None:
                    continue
                changes: dict[str, Any] = {
                    "attached": True,
                    "channel": attachment.channel,
                    "sender_role": attachment.sender_role,
                    "internal": attachment.internal,
                    "author": attachment.author or message.author,
                    "recipient": attachment.recipient or message.recipient,
                }
                status = attachment.delivery_status
                if _DELIVERY_RANK.get(status, 0) > _DELIVERY_RANK.get(message.delivery_status, 0):
                    changes["delivery_status"] = status
                session.execute(update(Message).where(Message.id == message.id).values(**changes))
            if input.messages or any(e.kind == "created" for e in input.events):
                self._index_text(session, snap.number)

    @staticmethod
    def _index_text(session: Session, number: str) -> None:
        """What full-text search finds a ticket by: its number, subject, customer, order and
        every message on it (agents search internal notes too)."""
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is None:
            return
        parts = [ticket.number, ticket.subject, ticket.customer_name, ticket.customer_email]
        if ticket.contact_id is not None:
            contact = session.get(Contact, ticket.contact_id)
            if contact is not None:
                parts += [contact.name, contact.email or "", contact.phone or ""]
        if ticket.order_id is not None:
            order = session.get(Order, ticket.order_id)
            if order is not None:
                parts.append(order.number)
        parts += session.scalars(
            select(Message.body)
            .where(Message.ticket_number == number)
            .where(Message.attached.is_(True))
            .order_by(Message.id)
        )
        text = lists.search_text(parts)
        if text != ticket.search_text:
            ticket.search_text = text


def _insert_for(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)
