"""The public web form: a customer files a request and gets its ticket number."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from tempodesk.contracts import CustomerRef
from tempodesk.core.db import transaction
from tempodesk.core.ids import web_form_key
from tempodesk.people import unsubscribe
from tempodesk.tickets.form_fields import ContentRules
from tempodesk.tickets.intake import IntakeInvalid, KeyReused, NewTicket
from web import csrf, limits, release_db, runtime, submissions
from web.i18n import current_language, lazy_gettext
from web.i18n import gettext as _

bp = Blueprint("public", __name__, url_prefix="/support")


#: What the customer says the request is about -> the process it starts (empty: the channel's).
REQUEST_KINDS = {
    "question": (lazy_gettext("A question or a problem"), ""),
    "return": (lazy_gettext("A return or a repair"), "returns"),
}


_AT_MOST = lazy_gettext("At most %(max)s characters.")


class SupportForm(FlaskForm):
    """What every support form asks (a form an admin configures adds its own fields)."""

    name = StringField(lazy_gettext("Your name"), validators=[Length(max=200, message=_AT_MOST)])
    email = StringField(
        lazy_gettext("Your email address"), validators=[Length(max=254, message=_AT_MOST)]
    )
    subject = StringField(lazy_gettext("Subject"), validators=[Length(max=300, message=_AT_MOST)])
    message = TextAreaField(lazy_gettext("How can we help?"))
    order_number = StringField(
        lazy_gettext("Order number (optional)"), validators=[Length(max=64, message=_AT_MOST)]
    )
    # Issued when the form is shown, signed with the time and the form (web.submissions): a
    # resubmit (double click, reload) files one ticket, and nobody else can replay it.
    submission = HiddenField()
    # Hidden from people (CSS); a bot that fills every field gives itself away.
    website = StringField(lazy_gettext("Leave this empty"))


class RequestForm(SupportForm):
    kind = SelectField(
        lazy_gettext("What is it about?"),
        choices=[SelectChoice(key, label) for key, (label, _process) in REQUEST_KINDS.items()],
        default="question",
    )


_FIELD_FOR = {
    "body": "message",
    "subject": "subject",
    "email": "email",
    "name": "name",
    "order_number": "order_number",
    "process": "kind",
    "phone": "email",
}


#: The default form's scope in its submission keys (a configured form's is its slug).
SCOPE = "new"


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    form = RequestForm()
    if not form.is_submitted():
        form.submission.data = submissions.issue(SCOPE)
    else:
        limits.hit(
            runtime().settings.public_form_rate_limit, "support-form", limits.client_address()
        )
    if form.validate_on_submit():
        problem = submissions.problem(form.submission.data, SCOPE, form.website.data)
        if problem is None:
            problem = submissions.spam_problem(
                ContentRules(),
                form.email.data or "",
                [form.subject.data or "", form.message.data or ""],
            )
        if problem is not None:
            form.submission.data = submissions.issue(SCOPE)
            form.message.errors = [*form.message.errors, problem]
            return render_template("public/new.html", form=form), 422
        return _file(form)
    status = 422 if form.is_submitted() else 200
    return render_template("public/new.html", form=form), status


def fingerprint(*values: object) -> str:
    """A hash of what was sent: the same key sent again with other content is refused."""
    return hashlib.sha256(json.dumps(values, default=str, sort_keys=True).encode()).hexdigest()


def _fingerprint(form: RequestForm) -> str:
    fields = (form.kind, form.name, form.email, form.subject, form.message, form.order_number)
    return fingerprint(*[f.data or "" for f in fields])


def _file(form: RequestForm) -> Any:
    nonce = submissions.nonce(form.submission.data, SCOPE)
    release_db()
    try:
        created = runtime().intake.create_ticket(
            NewTicket(
                subject=form.subject.data or "",
                body=form.message.data or "",
                customer=CustomerRef(
                    email=form.email.data or "",
                    name=form.name.data or "",
                    order_needs_email=True,
                    language=current_language(),  # a new contact speaks the page's language
                ),
                channel="web",
                order_number=form.order_number.data or "",
                idempotency_key=web_form_key(nonce),
                fingerprint=_fingerprint(form),
                process=REQUEST_KINDS.get(form.kind.data or "", ("", ""))[1],
            ),
            # The customer gets their number even while the ticket engine is away.
            accept_if_down=True,
        )
    except KeyReused:
        # Sent before with other content (the back button): a new key files it anew.
        form.submission.data = submissions.issue(SCOPE)
        form.message.errors = [
            _("This form was already sent with other content. Send it again to file it too.")
        ]
        return render_template("public/new.html", form=form), 422
    except IntakeInvalid as exc:
        for key, message in exc.errors.items():
            field = getattr(form, _FIELD_FOR.get(key, "message"))
            field.errors = [*field.errors, message]  # translated by the page (msg)
        return render_template("public/new.html", form=form), 422
    session["submitted_ticket"] = created.number
    return redirect(url_for("public.submitted"))


@bp.route("/submitted")
def submitted() -> Any:
    number = session.get("submitted_ticket")
    if not number:
        return redirect(url_for("public.new"))
    return render_template("public/submitted.html", number=number)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is this page's credential; mail clients POST it (RFC 8058)
def unsubscribe_page(token: str) -> Any:
    """GET shows a button (a link prefetched by a mail scanner changes nothing); POST, from
    the button or a mail client's one-click, refuses non-essential mail."""
    address = unsubscribe.address_of(runtime().settings.session_secret(), token)
    if address is None:
        return render_template("public/unsubscribe.html", state="invalid"), 404
    if request.method == "GET":
        return render_template("public/unsubscribe.html", state="ask")
    with transaction(runtime().sessions) as session:
        unsubscribe.unsubscribe(session, address)
    return render_template("public/unsubscribe.html", state="done")
