"""Whose data is it: a person is found by an email address (their contact, if any, and every
ticket of that contact or written from that address)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tempodesk.core.models import Contact, Ticket


@dataclass
class Subject:
    """A person as the database knows them."""

    email: str
    contact: Contact | None
    tickets: list[Ticket] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        return [t.number for t in self.tickets]


def normalise(email: str) -> str:
    """Addresses are stored lower-cased (``Contact.email``)."""
    return email.strip().lower()


def digest(email: str) -> str:
    """How the audit log names a person: a digest of the normalised address, never the
    address (a forgotten person's address must not stay in the log); whoever holds the address
    finds its entries by computing the same digest."""
    return "sha256:" + hashlib.sha256(normalise(email).encode("utf-8")).hexdigest()[:24]


def find_subject(session: Session, email: str) -> Subject:
    """The contact with this address and every ticket that is theirs (by contact or address)."""
    address = normalise(email)
    contact = session.scalar(select(Contact).where(Contact.email == address))
    mine = [Ticket.customer_email == address]
    if contact is not None:
        mine.append(Ticket.contact_id == contact.id)
    tickets = list(session.scalars(select(Ticket).where(or_(*mine)).order_by(Ticket.id)))
    return Subject(address, contact, tickets)
