"""Consent to non-essential mail: the one-click unsubscribe link (RFC 8058) that every
non-essential mail to a customer carries. The link is **signed, not stored** (itsdangerous
with the app's secret, salt ``tempodesk.unsubscribe``, no expiry: an old newsletter's link
must still work), so the worker that sends and the web that takes the click share only the
secret. Unsubscribing sets ``contacts.non_essential_mail`` to False, which templates not
marked essential honour (``activities/mail.py``)."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core.models import Contact

SALT = "tempodesk.unsubscribe"


def token(secret: str, address: str) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps(address.strip().lower())


def address_of(secret: str, value: str) -> str | None:
    """The address a token was made for, None if it is not ours."""
    try:
        address = URLSafeSerializer(secret, salt=SALT).loads(value)
    except BadSignature:
        return None
    return address if isinstance(address, str) else None


def link(secret: str, public_url: str, address: str) -> str:
    return f"{public_url}/support/unsubscribe/{token(secret, address)}"


def headers(secret: str, public_url: str, address: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs once."""
    return {
        "List-Unsubscribe": f"<{link(secret, public_url, address)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe(session: Session, address: str) -> bool:
    """Refuse non-essential mail for the contact with this address; False if none."""
    contact = session.scalar(select(Contact).where(Contact.email == address))
    if contact is None:
        return False
    contact.non_essential_mail = False
    return True
