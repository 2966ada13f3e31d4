"""The portal's blueprint and who is signed in to it.

A customer's portal session is not an agent's: Flask-Login is for agents; the signed-in
customer is a contact id in the session under its own key (``CONTACT_KEY``).
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for
from werkzeug.wrappers import Response

from tempodesk.core.models import Contact
from web import db

bp = Blueprint("portal", __name__, url_prefix="/portal")

#: The session key holding the signed-in customer's contact id.
CONTACT_KEY = "portal_contact"


def signed_in_contact() -> Contact | None:
    """The contact signed in to the portal, if any (and still there)."""
    contact_id = session.get(CONTACT_KEY)
    if not isinstance(contact_id, int):
        return None
    return db().get(Contact, contact_id)


def to_sign_in() -> Response:
    """Off to the sign-in page, coming back here afterwards."""
    return redirect(url_for("portal.login", next=request.full_path.rstrip("?")))


def own_path(target: str | None) -> str:
    """Where to go after signing in: a portal page (or an internal support form), else
    "my requests"."""
    if (
        target
        and (target.startswith("/portal/") or target.startswith("/support/"))
        and not target.startswith("/portal/login")
        and "\\" not in target
        and all(ord(c) >= 32 for c in target)
    ):
        return target
    return url_for("portal.tickets")
