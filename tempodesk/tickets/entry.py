"""Tickets entered by agents: a phone call, a walk-in, a returned parcel, for a known contact,
a new one, or straight from an order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tempodesk.contracts import CustomerRef
from tempodesk.core.ids import desk_entry_key
from tempodesk.core.models import Contact
from tempodesk.people.addresses import normalize_email, normalize_phone
from tempodesk.people.common import CustomerInvalid
from tempodesk.people.contacts import contact_label
from tempodesk.people.orders import find_order
from tempodesk.tickets import processes
from tempodesk.tickets.intake import CHANNELS, NewTicket

#: What the agent picks in "New ticket": label, channel recorded, process (empty: channel's).
ENTRY_KINDS: dict[str, tuple[str, str, str]] = {
    "phone": ("Phone call", "phone", ""),
    "walk_in": ("Walk-in", "walk_in", ""),
    "returned_parcel": ("Returned parcel", "walk_in", "returns"),
    "email": ("Email", "email", ""),
    "web": ("Web form", "web", ""),
    "api": ("Other (API)", "api", ""),
}
assert all(channel in CHANNELS for _, channel, _ in ENTRY_KINDS.values())


@dataclass
class TicketEntry:
    """The agent's "New ticket" form."""

    kind: str = "phone"
    email: str = ""
    phone: str = ""
    name: str = ""
    subject: str = ""
    body: str = ""
    order_number: str = ""
    priority: int = 2
    process: str = ""
    submission: str = ""  # put in the form when shown: a double submit files one ticket


def entry_from_order(session: Session, number: str) -> TicketEntry:
    """A "New ticket" form pre-filled from an order (its customer, its number)."""
    order = find_order(session, number)
    entry = TicketEntry()
    if order is None:
        entry.order_number = number.strip()[:64]
        return entry
    entry.order_number = order.number
    entry.subject = f"Order {order.number}"
    if order.contact is not None:
        entry.email = order.contact.email or ""
        entry.phone = order.contact.phone or ""
        entry.name = order.contact.name
    return entry


def entry_from_contact(session: Session, contact_id: int) -> TicketEntry:
    contact = session.get(Contact, contact_id)
    entry = TicketEntry()
    if contact is not None:
        entry.email, entry.phone, entry.name = (
            contact.email or "",
            contact.phone or "",
            contact.name,
        )
    return entry


def new_ticket_from_entry(session: Session, entry: TicketEntry, agent: str) -> NewTicket:
    """Check what intake cannot know (kind, process, the order and its customer) and build
    the intake request; the customer is prefilled from the order when the form has none.
    CustomerInvalid with every problem; intake checks the rest."""
    errors: dict[str, str] = {}
    if entry.kind not in ENTRY_KINDS:
        errors["kind"] = "Choose how the request came in."
        _, channel, kind_process = "", "phone", ""
    else:
        _, channel, kind_process = ENTRY_KINDS[entry.kind]
    process = entry.process.strip()
    if process and not processes.exists(session, process):
        errors["process"] = f"There is no process '{process}'."
    email, phone, name = entry.email, entry.phone, entry.name
    order_number = entry.order_number.strip()
    if order_number:
        order = find_order(session, order_number)
        if order is None:
            errors["order_number"] = f"There is no order {order_number}."
        else:
            order_number = order.number
            owner = order.contact
            if owner is not None:
                if not email.strip() and not phone.strip():
                    email, phone = owner.email or "", owner.phone or ""
                    name = name or owner.name
                elif not _same_customer(owner, email, phone):
                    errors["order_number"] = (
                        f"The order {order.number} belongs to another customer "
                        f"({contact_label(owner)})."
                    )
    if errors:
        raise CustomerInvalid(errors)
    return NewTicket(
        subject=entry.subject,
        body=entry.body,
        customer=CustomerRef(email=email, name=name, phone=phone),
        channel=channel,
        order_number=order_number,
        priority=entry.priority,
        idempotency_key=desk_entry_key(agent, entry.submission) if entry.submission else "",
        created_by=agent,
        process=process or kind_process,
    )


def _same_customer(contact: Contact, email: str, phone: str) -> bool:
    email, phone = normalize_email(email), normalize_phone(phone)
    return bool((email and email == contact.email) or (phone and phone == contact.phone))
