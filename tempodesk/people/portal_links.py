"""The customer portal's one-time sign-in links: a contact asks with their address and gets a
link; the link signs them in once, within its lifetime. Only the token's SHA-256 is stored,
so a database read gives nobody a working link.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tempodesk.core.db import aware
from tempodesk.core.models import Contact, PortalLink, utcnow
from tempodesk.people.addresses import normalize_email

#: How long the row of a used or expired link is kept before it is deleted.
KEEP_DEAD = timedelta(days=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session: Session, email: str, minutes: int) -> tuple[Contact, str] | None:
    """A new sign-in token for the contact with exactly this address (None: nobody has it;
    the caller answers alike either way)."""
    address = normalize_email(email)
    if not address:
        return None
    contact = session.scalar(select(Contact).where(Contact.email == address))
    if contact is None:
        return None
    # Links dead for a day are worth nothing to anyone: they go as new ones come.
    session.execute(delete(PortalLink).where(PortalLink.expires_at < utcnow() - KEEP_DEAD))
    token = secrets.token_urlsafe(32)
    session.add(
        PortalLink(
            contact_id=contact.id,
            token_hash=_hash(token),
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    session.flush()
    return contact, token


def peek(session: Session, token: str) -> PortalLink | None:
    """The link of this token if it would still sign in (unused, not expired)."""
    link = session.scalar(select(PortalLink).where(PortalLink.token_hash == _hash(token)))
    if link is None or link.used_at is not None:
        return None
    expires = aware(link.expires_at)
    if expires is None or expires <= utcnow():
        return None
    return link


def redeem(session: Session, token: str) -> int | None:
    """Spend the token: the contact id it signs in, or None (unknown, used or expired).

    The spend is one conditional UPDATE, so two clicks racing each other sign in once."""
    link = peek(session, token)
    if link is None:
        return None
    spent = session.execute(
        update(PortalLink)
        .where(PortalLink.id == link.id, PortalLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if getattr(spent, "rowcount", 0) != 1:
        return None
    return link.contact_id
