"""Calls in the desk: a ticket's calls (polled while one is live), the screen pop of an
incoming call with the caller's open tickets, a ticket made from a call or the call attached
to an open ticket (a signal, never a write of the ticket), missed calls, and calling a
contact from their page."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.contracts.calls import StartCallInput
from tempodesk.core.db import transaction
from tempodesk.core.models import CommRecord, Contact
from tempodesk.core.temporal import EngineUnavailable, TicketNotFound
from tempodesk.people.common import CustomerInvalid
from tempodesk.telephony import calls, records
from tempodesk.tickets import customer_scope, queries
from tempodesk.tickets import entry as ticket_entry
from tempodesk.tickets.intake import IntakeInvalid
from web import db, release_db, runtime
from web.desk.common import REQUEST_ID, current_actor
from web.i18n import gettext as _
from web.phone.common import bp, record_helpers, status_text

CLOSED = ("resolved", "closed", "merged")


@bp.app_context_processor
def _phone_helpers() -> dict[str, Any]:
    return {
        **record_helpers(),
        "ticket_records": _ticket_records,
        "contact_records": _contact_records,
        "new_call_id": _new_call_id,
    }


def _ticket_records(number: str) -> list[CommRecord]:
    return records.records_of_ticket(db(), number)


def _contact_records(contact_id: int) -> list[CommRecord]:
    return records.records_of_contact(db(), contact_id)


def _new_call_id() -> str:
    return str(uuid.uuid4())


@bp.route("/tickets/<number>/calls.json")
def ticket_calls(number: str) -> Any:
    """A ticket's calls and records as the ticket page shows them (``html``), whether one is
    live (the page polls faster), and whether the agent still owes an outcome."""
    if queries.find_ticket(db(), number, current_actor()) is None:
        abort(404)
    found = records.records_of_ticket(db(), number)
    calls_only = [r for r in found if r.kind == "call"]
    latest = calls_only[-1] if calls_only else None
    return jsonify(
        {
            "calls": [
                {
                    "id": r.id,
                    "status": r.status,
                    "status_text": status_text(r),
                    "outcome": r.outcome,
                }
                for r in calls_only
            ],
            "live": any(r.status in calls.LIVE for r in calls_only),
            "needs_outcome": bool(
                latest
                and latest.status in calls.FINAL
                and not latest.outcome
                and latest.agent == current_user.username
                and latest.direction == "out"
            ),
            "html": render_template("phone/_records.html", records=found, ticket_number=number),
        }
    )


@bp.route("/pop.json")
def pop() -> Any:
    """The incoming calls ringing at the agent's extension, with each caller's open tickets
    (the screen pop; the desk polls it)."""
    session, actor = db(), current_actor()
    ringing = calls.ringing_for(session, actor.username)
    pops: list[dict[str, Any]] = []
    for record in ringing:
        contact = _visible_contact(record.contact_id)
        tickets = queries.tickets_of(session, actor, [contact.id]) if contact else []
        open_tickets = [t for t in tickets if t.state_category not in CLOSED][:5]
        pops.append({"call": record, "contact": contact, "tickets": open_tickets})
    html = render_template("phone/_pop.html", pops=pops) if pops else ""
    return jsonify({"count": len(pops), "ids": [p["call"].id for p in pops], "html": html})


def _visible_contact(contact_id: int | None) -> Contact | None:
    if contact_id is None or not customer_scope.may_see_contact(db(), current_actor(), contact_id):
        return None
    return db().get(Contact, contact_id)


def _own_call_or_404(record_id: int) -> CommRecord:
    """A call the agent may act on: theirs, a missed one (anyone calls back), or an admin's."""
    record = db().get(CommRecord, record_id)
    if record is None:
        abort(404)
    if record.kind != "call":  # a letter or an appointment: whoever may see the contact
        if _visible_contact(record.contact_id) is None:
            abort(404)
        return record
    mine = record.agent == current_user.username or current_user.is_admin
    if not mine and record.status != "missed":
        abort(404)
    return record


@bp.route("/calls/<int:record_id>/ticket", methods=["POST"])
def ticket_from_call(record_id: int) -> Any:
    """A new ticket (channel phone) from a call or any record, through intake as an agent's
    new ticket; once per record and agent (the idempotency key)."""
    record = _own_call_or_404(record_id)
    if record.converted_ticket:
        return redirect(url_for("desk.ticket", number=record.converted_ticket))
    contact = db().get(Contact, record.contact_id) if record.contact_id else None
    subject, body = records.ticket_body(record, contact)
    entry = ticket_entry.TicketEntry(
        kind="phone",
        email=(contact.email if contact else "") or "",
        phone=(contact.phone if contact else "") or record.number,
        name=contact.name if contact else "",
        subject=subject,
        body=body,
        submission=f"record-{record.id}",
    )
    try:
        new = ticket_entry.new_ticket_from_entry(db(), entry, current_user.username)
        release_db()
        created = runtime().intake.create_ticket(new, accept_if_down=True)
    except (CustomerInvalid, IntakeInvalid) as exc:
        flash(_("No ticket was made: %(reason)s", reason="; ".join(exc.errors.values())), "error")
        return redirect(request.referrer or url_for("phone.missed"))
    with transaction(runtime().sessions) as session:
        stored = session.get(CommRecord, record_id)
        if stored is not None:
            records.mark_converted(session, stored, created.number)
    flash(_("Ticket %(number)s is created.", number=created.number), "success")
    return redirect(url_for("desk.ticket", number=created.number))


@bp.route("/calls/<int:record_id>/attach", methods=["POST"])
def attach_call(record_id: int) -> Any:
    """Put the call on an open ticket the agent may see: a customer message (channel phone)
    signalled to the ticket's workflow, once per call."""
    record = _own_call_or_404(record_id)
    number = request.form.get("ticket", "")
    ticket = queries.find_ticket(db(), number, current_actor())
    if ticket is None:
        abort(404)
    contact = db().get(Contact, record.contact_id) if record.contact_id else None
    body = records.ticket_body(record, contact)[1]
    author = record.number or (contact.name if contact else "") or "phone"
    release_db()
    try:
        runtime().actions.customer_message(
            ticket.number,
            body,
            author=author,
            channel="phone",
            idempotency_key=f"call-{record.id}-{ticket.number}",
        )
    except (TicketNotFound, EngineUnavailable):
        flash(
            _("The call could not be attached: the ticket is closed or the engine is away."),
            "error",
        )
        return redirect(url_for("desk.ticket", number=ticket.number))
    with transaction(runtime().sessions) as session:
        stored = session.get(CommRecord, record_id)
        if stored is not None and stored.ticket_number is None:
            stored.ticket_number = ticket.number
    flash(_("The call is on ticket %(number)s.", number=ticket.number), "success")
    return redirect(url_for("desk.ticket", number=ticket.number))


@bp.route("/missed")
def missed() -> Any:
    found = calls.missed_calls(db())
    contacts = {r.id: _visible_contact(r.contact_id) for r in found}
    return render_template("phone/missed.html", records=found, contacts=contacts)


@bp.route("/contacts/<int:contact_id>/call", methods=["POST"])
def call_contact(contact_id: int) -> Any:
    """Click-to-call from a contact's page. The form's id is the call's key: the same form
    sent twice (a double click) places one call."""
    contact = _visible_contact(contact_id)
    if contact is None:
        abort(404)
    form_id = request.form.get("call_id", "")
    if not REQUEST_ID.match(form_id):
        abort(400)
    release_db()
    result = calls.start_call(
        runtime().sessions,
        runtime().settings,
        StartCallInput(
            call_key=f"td.c{contact_id}.{form_id}",
            agent=current_user.username,
            contact_id=contact_id,
        ),
    )
    if result.status in ("started", "already"):
        flash(_("Your phone rings; pick it up to call the customer."), "success")
    else:
        flash(_("The call could not be placed: %(reason)s", reason=result.detail), "error")
    return redirect(url_for("people.contact", contact_id=contact_id))
