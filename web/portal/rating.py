"""Satisfaction ratings from the customer: the mailed link (``/rate/<token>``) and the
portal's "Rate our answer" on a request.

No GET writes: the link (``?score=N`` for the score clicked in the mail) shows the score
preselected, an optional comment and one Send button; the POST (with the page's CSRF token)
rates, so mail scanners that open links rate nothing. The link may be used again until it
expires; the latest rating counts. A forged, altered or expired token answers 404, like a
ticket that is not the customer's in the portal.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Regexp

from statemachines import FieldErrors
from tempodesk.core.models import Ticket
from tempodesk.core.temporal import TicketNotFound
from tempodesk.tickets import queries, ratings
from web import db, limits, release_db, runtime
from web.i18n import gettext as _
from web.i18n import lazy_gettext
from web.portal.common import bp, signed_in_contact, to_sign_in

link_bp = Blueprint("rating", __name__, url_prefix="/rate")


class RatingForm(FlaskForm):
    score = RadioField(
        lazy_gettext("Your rating"),
        choices=[SelectChoice(n, str(n)) for n in ratings.SCORES],
        coerce=int,
        validators=[InputRequired(lazy_gettext("Choose a score from 1 to 5."))],
    )
    comment = TextAreaField(
        lazy_gettext("Comment (optional)"),
        validators=[
            Length(max=ratings.COMMENT_MAX, message=lazy_gettext("At most %(max)s characters."))
        ],
    )
    # A nonce put in the form when it is shown: sent twice (a double click), one rating.
    submission = HiddenField(validators=[Length(max=64), Regexp(r"^[A-Za-z0-9_-]*$")])


def rating_form(ticket: Ticket) -> RatingForm | None:
    """The portal's rating form for a request that asks for one (else None)."""
    if ratings.portal_link(ticket) is None:
        return None
    form = RatingForm(formdata=None, score=ticket.rating_score or None)
    form.submission.data = secrets.token_urlsafe(18)
    return form


@link_bp.route("/<token>", methods=["GET", "POST"])
def by_link(token: str) -> Any:
    settings = runtime().settings
    link = ratings.read(settings.session_secret(), token)
    ticket = ratings.ticket_of(db(), link) if link is not None else None
    if link is None or ticket is None:
        abort(404)
    form = RatingForm()
    if request.method == "GET":
        chosen = request.args.get("score", "")
        form.score.data = int(chosen) if chosen in {str(n) for n in ratings.SCORES} else None
        form.submission.data = secrets.token_urlsafe(18)
        return render_template("portal/rate.html", form=form, ticket=ticket)
    limits.hit(settings.public_form_rate_limit, "rating", limits.client_address())
    if form.validate_on_submit():
        author = ticket.customer_email
        problem = _submit(link, form, via="email", author=author)
        if problem is None:
            return render_template("portal/rated.html", ticket=ticket, score=form.score.data)
        form.comment.errors = [*form.comment.errors, problem]
    return render_template("portal/rate.html", form=form, ticket=ticket), 422


@bp.route("/tickets/<number>/rate", methods=["POST"])
def rate(number: str) -> Any:
    """The portal's "Rate our answer" on the customer's own resolved or closed request."""
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    found = queries.customer_ticket(db(), contact, number)
    link = ratings.portal_link(found) if found is not None else None
    if link is None:
        abort(404)
    form = RatingForm()
    if not form.validate_on_submit():
        errors = [e for field in (form.score, form.comment) for e in field.errors]
        flash(" ".join(str(e) for e in errors) or _("Choose a score from 1 to 5."), "error")
        return redirect(url_for("portal.ticket", number=number))
    problem = _submit(link, form, via="portal", author=contact.email or "")
    flash(problem or _("Thank you for your rating."), "error" if problem else "info")
    return redirect(url_for("portal.ticket", number=number))


def _submit(link: ratings.RatingLink, form: RatingForm, *, via: str, author: str) -> str | None:
    """Send the rating into the ticket; why not (a text to show), else None."""
    services = runtime()
    release_db()
    try:
        ratings.submit(
            services.sessions,
            services.temporal,
            link,
            int(form.score.data or 0),
            form.comment.data or "",
            via=via,
            author=author,
            submission=form.submission.data or "",
        )
    except FieldErrors as exc:
        return "; ".join(exc.errors.values())
    except TicketNotFound:
        abort(404)
    return None
