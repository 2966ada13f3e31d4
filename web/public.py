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
from tempodesk.intake import IntakeInvalid, NewTicket
from web import release_db, runtime

bp = Blueprint("public", __name__, url_prefix="/support")


#: What the customer says the request is about -> the process it starts (empty: the channel's).
REQUEST_KINDS = {
    "question": ("A question or a problem", ""),
    "return": ("A return or a repair", "returns"),
}


class RequestForm(FlaskForm):
    kind = SelectField(
        "What is it about?",
        choices=[SelectChoice(key, label) for key, (label, _) in REQUEST_KINDS.items()],
        default="question",
    )
    name = StringField("Your name", validators=[Length(max=200)])
    email = StringField("Your email address", validators=[Length(max=254)])
    subject = StringField("Subject", validators=[Length(max=300)])
    message = TextAreaField("How can we help?")
    order_number = StringField("Order number (optional)", validators=[Length(max=64)])
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
                    customer=CustomerRef(email=form.email.data or "", name=form.name.data or ""),
                    channel="web",
                    order_number=form.order_number.data or "",
                    idempotency_key=f"web:{submission}",
                    process=REQUEST_KINDS.get(form.kind.data or "", ("", ""))[1],
                )
            )
        except IntakeInvalid as exc:
            for key, message in exc.errors.items():
                field = getattr(form, _FIELD_FOR.get(key, "message"))
                field.errors = [*field.errors, message]
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
