"""Signing in to the portal by a one-time link mailed to the customer's address.

The answer to "send me a link" is the same whether the address is known or not (the mail
leaves from a thread of its own, so neither the page nor its timing tells). The link itself
only shows a button: mail scanners that open every link do not spend it; the button's POST
(with the page's CSRF token) does.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from tempodesk.core.models import Contact
from tempodesk.mail.direct import send_now
from tempodesk.people import portal_links
from tempodesk.people.addresses import normalize_email
from web import db, limits, release_db, runtime
from web.i18n import COOKIE, COOKIE_MAX_AGE, LANGUAGES, force_locale, lazy_gettext
from web.i18n import gettext as _
from web.portal.common import CONTACT_KEY, bp, own_path


class LinkForm(FlaskForm):
    email = StringField(
        lazy_gettext("Your email address"),
        validators=[
            DataRequired(lazy_gettext("Enter your email address.")),
            Length(max=254, message=lazy_gettext("At most %(max)s characters.")),
        ],
    )
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """The sign-in button behind a link (its CSRF token is all it carries)."""


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LinkForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    settings = runtime().settings
    if request.method == "POST":
        limits.hit(settings.portal_login_rate_limit, "portal-login", limits.client_address())
    if form.validate_on_submit():
        address = normalize_email(form.email.data)
        limits.hit(settings.portal_address_rate_limit, "portal-address", address)
        issued = portal_links.issue_link(db(), address, settings.portal_link_minutes)
        db().commit()
        if issued is not None:
            contact, token = issued
            _mail_link(contact, token, own_path(form.next.data))
        release_db()
        return render_template("portal/link_sent.html", email=address)
    status = 422 if form.is_submitted() else 200
    return render_template("portal/login.html", form=form), status


def _mail_link(contact: Contact, token: str, target: str) -> None:
    settings = runtime().settings
    link = settings.public_url + url_for("portal.link", token=token, next=target)
    with force_locale(contact.language or "en"):
        subject = _("Your sign-in link")
        body = _(
            "Hello,\n\nopen this link to see your requests (it works once, for %(minutes)s "
            "minutes):\n%(link)s\n\nIf you did not ask for it, ignore this mail.\n",
            minutes=settings.portal_link_minutes,
            link=link,
        )
    to = contact.email or ""
    threading.Thread(
        target=send_now, args=(settings, to, subject, body), name="portal-link", daemon=True
    ).start()


@bp.route("/login/<token>", methods=["GET", "POST"])
def link(token: str) -> Any:
    form = ConfirmForm()
    if portal_links.peek(db(), token) is None:
        return _dead_link()
    if not form.validate_on_submit():
        return render_template("portal/confirm.html", form=form)
    contact_id = portal_links.redeem(db(), token)
    db().commit()
    if contact_id is None:
        return _dead_link()
    target = own_path(request.args.get("next"))
    # A new session: nothing from before (an agent's sign-in, a CSRF token) carries over.
    session.clear()
    session[CONTACT_KEY] = contact_id
    response = redirect(target)
    contact = db().get(Contact, contact_id)
    if COOKIE not in request.cookies and contact is not None and contact.language in LANGUAGES:
        # The portal speaks the customer's language, unless they chose one with the switch.
        response.set_cookie(
            COOKIE, contact.language, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax"
        )
    return response


def _dead_link() -> tuple[str, int]:
    form = LinkForm()
    page = render_template(
        "portal/login.html",
        form=form,
        problem=_("This sign-in link has expired or was already used. Ask for a new one."),
    )
    return page, 410


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session.pop(CONTACT_KEY, None)
    session.pop("csrf_token", None)
    return redirect(url_for("portal.login"))
