"""Signing in to the portal by a one-time link mailed to the customer's address.

The answer to "send me a link" is the same whether the address is known or not (the mail
leaves from a thread of its own, so neither the page nor its timing tells). The link itself
only shows a button: mail scanners that open every link do not spend it; the button's POST
(with the page's CSRF token) does. A customer who set a password in "my profile" may sign in
with it instead (limited per client and per address; an unknown address and a wrong password
get the same answer after the same hash).
"""

from __future__ import annotations

import threading
from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from tempodesk.core.models import Contact
from tempodesk.mail.direct import send_now
from tempodesk.people import portal_links, portal_passwords
from tempodesk.people.addresses import normalize_email
from web import audit, db, limits, release_db, runtime
from web.i18n import COOKIE, COOKIE_MAX_AGE, LANGUAGES, force_locale, lazy_gettext
from web.i18n import gettext as _
from web.portal.common import CONTACT_KEY, EPOCH_KEY, bp, own_path, start_session


class LinkForm(FlaskForm):
    email = StringField(
        lazy_gettext("Your email address"),
        validators=[
            DataRequired(lazy_gettext("Enter your email address.")),
            Length(max=254, message=lazy_gettext("At most %(max)s characters.")),
        ],
    )
    next = HiddenField()


class PasswordLoginForm(FlaskForm):
    """Email and password, for customers who set one (its fields are prefixed ``pw-``)."""

    email = StringField(
        lazy_gettext("Email address"),
        validators=[
            DataRequired(lazy_gettext("Enter your email address.")),
            Length(max=254, message=lazy_gettext("At most %(max)s characters.")),
        ],
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[
            DataRequired(lazy_gettext("Enter your password.")),
            Length(max=200, message=lazy_gettext("At most %(max)s characters.")),
        ],
    )
    next = HiddenField()


def _login_page(
    form: LinkForm | None = None,
    password_form: PasswordLoginForm | None = None,
    problem: str | None = None,
) -> str:
    # Whichever form was sent, the other one keeps where to go after signing in.
    sent = form or password_form
    next_path = request.args.get("next") or (sent.next.data if sent else "") or ""
    if form is None:
        form = LinkForm(formdata=None, next=next_path)
    if password_form is None:
        password_form = PasswordLoginForm(formdata=None, prefix="pw", next=next_path)
    return render_template(
        "portal/login.html", form=form, password_form=password_form, problem=problem
    )


class ConfirmForm(FlaskForm):
    """The sign-in button behind a link (its CSRF token is all it carries)."""


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LinkForm()
    if request.method == "GET":
        return _login_page()
    settings = runtime().settings
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
    return _login_page(form=form), 422


@bp.route("/login/password", methods=["POST"])
def password_login() -> Any:
    form = PasswordLoginForm(prefix="pw")
    settings = runtime().settings
    # Before the password is hashed (scrypt: the expensive part) and whatever the form.
    limits.hit(settings.login_rate_limit, "portal-password", limits.client_address())
    if not form.validate_on_submit():
        return _login_page(password_form=form), 422
    address = normalize_email(form.email.data)
    limits.check(settings.login_failure_limit, "portal-failed", address)
    contact = portal_passwords.authenticate(db(), address, form.password.data or "")
    if contact is None:
        limits.hit(settings.login_failure_limit, "portal-failed", address)
        problem = _("Wrong email address or password. You can also ask for a sign-in link.")
        return _login_page(password_form=form, problem=problem), 401
    return _signed_in(contact, own_path(form.next.data), "password")


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
    contact = db().get(Contact, contact_id)
    if contact is None:
        return _dead_link()
    return _signed_in(contact, own_path(request.args.get("next")), "link")


def _signed_in(contact: Contact, target: str, method: str) -> Response:
    audit.record(
        "sign_in.portal",
        actor=contact.email or f"contact {contact.id}",
        actor_kind="customer",
        object_type="contact",
        object_id=contact.id,
        after={"method": method},
    )
    db().commit()
    start_session(contact)
    response = redirect(target)
    if COOKIE not in request.cookies and contact.language in LANGUAGES:
        # The portal speaks the customer's language, unless they chose one with the switch.
        response.set_cookie(
            COOKIE, contact.language, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax"
        )
    return response


def _dead_link() -> tuple[str, int]:
    problem = _("This sign-in link has expired or was already used. Ask for a new one.")
    return _login_page(problem=problem), 410


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session.pop(CONTACT_KEY, None)
    session.pop(EPOCH_KEY, None)
    session.pop("csrf_token", None)
    return redirect(url_for("portal.login"))
