"""The public web form: a customer files a request and gets its ticket number."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, redirect, render_template, session, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from tempodesk.contracts import CustomerRef
from tempodesk.core.ids import web_form_key
from tempodesk.tickets.intake import IntakeInvalid, NewTicket
from web import release_db, runtime
from web.i18n import lazy_gettext

bp = Blueprint("public", __name__, url_prefix="/support")


#: What the customer says the request is about -> the process it starts (empty: the channel's).
REQUEST_KINDS = {
    "question": (lazy_gettext("A question or a problem"), ""),
    "return": (lazy_gettext("A return or a repair"), "returns"),
}


_AT_MOST = lazy_gettext("At most %(max)s characters.")


class RequestForm(FlaskForm):
    kind = SelectField(
        lazy_gettext("What is it about?"),
        choices=[SelectChoice(key, label) for key, (label, _process) in REQUEST_KINDS.items()],
        default="question",
    )
    name = StringField(lazy_gettext("Your name"), validators=[Length(max=200, message=_AT_MOST)])
    email = StringField(
        lazy_gettext("Your email address"), validators=[Length(max=254, message=_AT_MOST)]
    )
    subject = StringField(lazy_gettext("Subject"), validators=[Length(max=300, message=_AT_MOST)])
    message = TextAreaField(lazy_gettext("How can we help?"))
    order_number = StringField(
        lazy_gettext("Order number (optional)"), validators=[Length(max=64, message=_AT_MOST)]
    )
    # Generated when the form is shown: a resubmit (double click, reload) files one ticket.
    submission = HiddenField()


_FIELD_FOR = {
    "body": "message",
    "subject": "subject",
    "email": "email",
    "name": "name",
    "order_number": "order_number",
    "process": "kind",
    "phone": "email",
}


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    form = RequestForm()
    if not form.is_submitted():
        form.submission.data = str(uuid.uuid4())
    if form.validate_on_submit():
        submission = (form.submission.data or "")[:64] or str(uuid.uuid4())
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
                    ),
                    channel="web",
                    order_number=form.order_number.data or "",
                    idempotency_key=web_form_key(submission),
                    process=REQUEST_KINDS.get(form.kind.data or "", ("", ""))[1],
                ),
                # The customer gets their number even while the ticket engine is away.
                accept_if_down=True,
            )
        except IntakeInvalid as exc:
            for key, message in exc.errors.items():
                field = getattr(form, _FIELD_FOR.get(key, "message"))
                field.errors = [*field.errors, message]  # translated by the page (msg)
            return render_template("public/new.html", form=form), 422
        session["submitted_ticket"] = created.number
        return redirect(url_for("public.submitted"))
    status = 422 if form.is_submitted() else 200
    return render_template("public/new.html", form=form), status


@bp.route("/submitted")
def submitted() -> Any:
    number = session.get("submitted_ticket")
    if not number:
        return redirect(url_for("public.new"))
    return render_template("public/submitted.html", number=number)
