"""A customer's optional portal password: set and removed from "my profile", checked at the
portal's sign-in beside the one-time link. Hashed as agents' passwords are (werkzeug's scrypt);
a session remembers a fragment of the hash it signed in with (``epoch``), so a new or removed
password ends every other session of that customer.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tempodesk.core.models import Contact
from tempodesk.people.addresses import normalize_email

#: The shortest password accepted (a customer's, like an agent's, is theirs to choose).
MIN_LENGTH = 10
MAX_LENGTH = 200

_DUMMY_HASH = generate_password_hash("not-a-password")


def password_problem(password: str) -> str | None:
    """Why this password cannot be set ("short", "long", "control"), else None."""
    if len(password) < MIN_LENGTH:
        return "short"
    if len(password) > MAX_LENGTH:
        return "long"
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "control"
    return None


def set_password(contact: Contact, password: str) -> None:
    """Give the contact this portal password (only its hash is kept)."""
    contact.password_hash = generate_password_hash(password)


def remove_password(contact: Contact) -> None:
    """Back to sign-in by link only."""
    contact.password_hash = ""


def authenticate(session: Session, email: str, password: str) -> Contact | None:
    """The contact with this address and portal password, else None; an unknown address or
    one without a password costs the same hash as a wrong password."""
    address = normalize_email(email)
    contact = session.scalar(select(Contact).where(Contact.email == address)) if address else None
    if contact is None or not contact.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return contact if check_password_hash(contact.password_hash, password) else None


def epoch(contact: Contact) -> str:
    """What a portal session holds of the credentials it began with."""
    return hashlib.sha256(contact.password_hash.encode()).hexdigest()[:16]
