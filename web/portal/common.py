"""The portal's blueprint and who is signed in to it.

A customer's portal session is not an agent's: Flask-Login is for agents; the signed-in
customer is a contact id in the session under its own key (``CONTACT_KEY``), with a fragment
of their password's hash (``EPOCH_KEY``): a new or removed password ends other sessions.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, redirect, request, session, url_for
from werkzeug.wrappers import Response

from tempodesk.core.models import Contact
from tempodesk.people import portal_passwords
from web import db

bp = Blueprint("portal", __name__, url_prefix="/portal")

#: The session key holding the signed-in customer's contact id.
CONTACT_KEY = "portal_contact"
#: The session key holding what the session knows of the customer's password (its epoch).
EPOCH_KEY = "portal_epoch"


def signed_in_contact() -> Contact | None:
    """The contact signed in to the portal, if any (still there, with the same password)."""
    contact_id = session.get(CONTACT_KEY)
    epoch = session.get(EPOCH_KEY)
    if not isinstance(contact_id, int) or not isinstance(epoch, str):
        return None
    contact = db().get(Contact, contact_id)
    if contact is None or not hmac.compare_digest(epoch, portal_passwords.epoch(contact)):
        return None
    return contact


def start_session(contact: Contact) -> None:
    """A new portal session for the contact: nothing from before (an agent's sign-in, a CSRF
    token) carries over."""
    session.clear()
    session[CONTACT_KEY] = contact.id
    session[EPOCH_KEY] = portal_passwords.epoch(contact)


def to_sign_in() -> Response:
    """Off to the sign-in page, coming back here afterwards."""
    return redirect(url_for("portal.login", next=request.full_path.rstrip("?")))


def own_path(target: str | None) -> str:
    """Where to go after signing in: a portal page, else "my requests"."""
    if (
        target
        and target.startswith("/portal/")
        and not target.startswith("/portal/login")
        and "\\" not in target
        and all(ord(c) >= 32 for c in target)
    ):
        return target
    return url_for("portal.tickets")
