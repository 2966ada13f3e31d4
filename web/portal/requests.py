"""The customer's requests: "my requests", one request's public history, a reply to it.

A reply is a customer message into the ticket's workflow (the same path as the API's and
a customer's email: ``Actions.customer_message``, a signal), never a write of the ticket.
Someone else's number and an unknown one both answer 404. Where the customer's organisation
shares its requests, a colleague's request reads like one's own but takes no reply (403).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from statemachines import FieldErrors
from tempodesk.core.ids import portal_reply_key
from tempodesk.core.models import Contact
from tempodesk.core.temporal import TicketNotFound
from tempodesk.tickets import queries
from web import db, release_db, runtime
from web.desk.ticket import content_disposition
from web.i18n import N_, label_order, lazy_gettext
from web.i18n import gettext as _
from web.portal.actions import CustomerActionForm, buttons
from web.portal.common import CONTACT_KEY, bp, signed_in_contact, to_sign_in
from web.portal.rating import rating_form
from web.uploads import uploaded_files


class ReplyForm(FlaskForm):
    body = TextAreaField(
        lazy_gettext("Your reply"), validators=[DataRequired(lazy_gettext("Enter a message."))]
    )
    # A nonce put in the form when it is shown: sent twice (a double click), one message.
    submission = HiddenField(validators=[Length(max=64), Regexp(r"^[A-Za-z0-9_-]*$")])


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """A signed-in customer's reply may carry files: the request size limit is raised before
    CSRFProtect reads the form (URL value preprocessors run before ``before_request``)."""
    if endpoint == "portal.ticket" and session.get(CONTACT_KEY) is not None:
        request.max_content_length = runtime().settings.max_upload_bytes


@bp.route("/")
@bp.route("/tickets")
def tickets() -> Any:
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    mine = queries.customer_tickets(db(), contact)
    rows = [(t, queries.customer_label(db(), t, label_order())) for t in mine]
    shared = queries.shares_organisation(db(), contact)
    colleagues = queries.organisation_tickets(db(), contact) if shared else []
    return render_template(
        "portal/tickets.html",
        contact=contact,
        rows=rows,
        shared=shared,
        organisation_rows=[(t, queries.customer_label(db(), t, label_order())) for t in colleagues],
    )


@bp.route("/tickets/<number>", methods=["GET", "POST"])
def ticket(number: str) -> Any:
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    access = queries.portal_ticket(db(), contact, number)
    if access is None:
        abort(404)
    found = access.ticket
    if request.method == "POST" and not access.own:
        abort(403)  # a colleague's request is read only
    form = ReplyForm()
    status = 200
    if form.validate_on_submit():
        problem = _reply(number, contact, form.body.data or "", form.submission.data or "")
        if problem is None:
            flash(_("Your reply was sent."), "info")
            return redirect(url_for("portal.ticket", number=number))
        status = 409 if problem == CLOSED else 422
        if problem == REUSED:
            form.submission.data = ""  # a fresh nonce: sent again, it is a new message
        form.body.errors = [*form.body.errors, _(problem) if problem in OURS else problem]
    elif form.is_submitted():
        status = 422
    if not form.submission.data:
        form.submission.data = secrets.token_urlsafe(18)
    return render_template(
        "portal/ticket.html",
        contact=contact,
        ticket=found,
        label=queries.customer_label(db(), found, label_order()),
        history=queries.public_history(db(), number),
        form=form,
        closed=found.state_category == "closed",
        own=access.own,
        buttons=buttons(found) if access.own else [],
        action_form=CustomerActionForm(formdata=None, state=found.state),
        rating_form=rating_form(found),
    ), status


@bp.route("/tickets/<number>/attachments/<int:attachment_id>")
def attachment(number: str, attachment_id: int) -> Any:
    """An attachment of the request's public history, always as a download."""
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    if queries.portal_ticket(db(), contact, number) is None:
        abort(404)
    found = queries.public_attachment(db(), number, attachment_id)
    if found is None:
        abort(404)
    response = make_response(found.data)
    response.headers["Content-Type"] = "application/octet-stream"
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


CLOSED = N_("This request is closed; it takes no more messages. Please write a new one.")
REUSED = N_("This form was already sent with other content. Send it again to file it too.")
OURS = (CLOSED, REUSED)


def _reply(number: str, contact: Contact, body: str, submission: str) -> str | None:
    """Send the reply into the ticket; why not (an English text the page translates)."""
    files = uploaded_files()
    key = portal_reply_key(contact.id, submission) if submission else ""
    author = contact.email or ""
    content = [number, body, *(hashlib.sha256(f.data).hexdigest() for f in files)]
    release_db()
    try:
        runtime().actions.customer_message(
            number,
            body,
            author=author,
            channel="portal",
            idempotency_key=key,
            fingerprint=hashlib.sha256("\n".join(content).encode()).hexdigest(),
            files=files,
        )
    except FieldErrors as exc:
        if "idempotency_key" in exc.errors:
            return REUSED
        return "; ".join(exc.errors.values())
    except TicketNotFound:
        return CLOSED
    return None
