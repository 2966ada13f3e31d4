"""Letters, appointments and calls an agent logs on a contact (each can become a ticket:
``web.phone.calls.ticket_from_call``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from tempodesk.core.models import Contact
from tempodesk.telephony import records
from tempodesk.tickets import customer_scope
from web import db
from web.desk.common import current_actor
from web.i18n import gettext as _
from web.i18n import translate_message
from web.phone.common import bp


@bp.route("/contacts/<int:contact_id>/records", methods=["POST"])
def log_record(contact_id: int) -> Any:
    if not customer_scope.may_see_contact(db(), current_actor(), contact_id):
        abort(404)
    contact = db().get(Contact, contact_id)
    if contact is None:
        abort(404)
    form = request.form
    data = records.RecordData(
        kind=form.get("kind", ""),
        direction=form.get("direction", "in"),
        subject=form.get("subject", ""),
        notes=form.get("notes", ""),
        number=form.get("number", ""),
        outcome=form.get("outcome", ""),
        at=_when(form.get("at", "")),
    )
    try:
        records.log_record(db(), contact, data, current_user.username)
    except records.RecordInvalid as exc:
        db().rollback()
        problems = "; ".join(translate_message(m) for m in exc.errors.values())
        flash(_("The record was not saved: %(problems)s", problems=problems), "error")
        return redirect(url_for("people.contact", contact_id=contact_id) + "#records")
    db().commit()
    flash(_("The record is saved."), "success")
    return redirect(url_for("people.contact", contact_id=contact_id) + "#records")


def _when(value: str) -> datetime | None:
    """The form's date and time (the browser's datetime-local, read as UTC); None: now."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None
