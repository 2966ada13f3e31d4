"""New tickets entered by agents: a request that came as a walk-in, a phone call, a returned
parcel or an order, with the customer (and the order) looked up on the way.

Thin views: the rules live in ``tempodesk.tickets.entry`` (the entry and its checks) and
intake, which files the ticket (queued if the ticket engine is away).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from statemachines.rights import ACT, holds
from tempodesk.core.models import Contact, Order
from tempodesk.people import accounts, common, contacts, orders
from tempodesk.tickets import customer_scope, processes
from tempodesk.tickets import entry as ticket_entry
from tempodesk.tickets.intake import IntakeInvalid
from web import db, release_db, runtime
from web.compose.common import bp
from web.edges import id_arg
from web.i18n import gettext as _
from web.i18n import translated_priorities


def _entry_from_form() -> ticket_entry.TicketEntry:
    form = request.form
    try:
        priority = int(form.get("priority", "2"))
    except ValueError:
        priority = 0
    return ticket_entry.TicketEntry(
        kind=form.get("kind", ""),
        email=form.get("email", "").strip(),
        phone=form.get("phone", "").strip(),
        name=form.get("name", "").strip(),
        subject=form.get("subject", ""),
        body=form.get("body", ""),
        order_number=form.get("order_number", "").strip(),
        priority=priority,
        process=form.get("process", ""),
        submission=form.get("submission", "")[:64],
    )


def _new_ticket_page(
    entry: ticket_entry.TicketEntry, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    session = db()
    found: Contact | None = None
    if entry.email or entry.phone:
        found = contacts.find_contact(session, entry.email, entry.phone)
        if found is not None and not _may_see(contact_id=found.id):
            found = None  # a customer out of the agent's scope is not shown back
    order = _visible_order(entry.order_number)
    return (
        render_template(
            "compose/new_ticket.html",
            entry=entry,
            errors=errors or {},
            kinds=ticket_entry.ENTRY_KINDS,
            priorities=translated_priorities(),
            processes=processes.names(session),
            found=found,
            looked_up=bool(entry.email or entry.phone),
            order=order,
        ),
        status,
    )


def _may_see(*, contact_id: int) -> bool:
    actor = accounts.actor_for(current_user)
    return customer_scope.may_see_contact(db(), actor, contact_id)


def _visible_order(number: str) -> Order | None:
    """The order with this number if the agent may see it (customer_scope), else None."""
    found = orders.find_order(db(), number) if number.strip() else None
    if found is None or not customer_scope.may_see_order(
        db(), accounts.actor_for(current_user), found.id
    ):
        return None
    return found


@bp.route("/tickets/new", methods=["GET", "POST"])
def new_ticket() -> Any:
    """An agent enters a request: a walk-in, a phone call, a returned parcel, an order."""
    if not holds(accounts.actor_for(current_user), ACT):
        abort(403)  # a read-only role: nothing to enter
    if request.method == "GET":
        order, contact = request.args.get("order", ""), request.args.get("contact", "")
        if order and _visible_order(order) is not None:
            entry = ticket_entry.entry_from_order(db(), order)
        elif (contact_id := id_arg(contact)) is not None and _may_see(contact_id=contact_id):
            entry = ticket_entry.entry_from_contact(db(), contact_id)
        else:
            entry = ticket_entry.TicketEntry()
        if request.args.get("kind") in ticket_entry.ENTRY_KINDS:
            entry.kind = request.args["kind"]
        entry.submission = str(uuid.uuid4())
        return _new_ticket_page(entry)
    entry = _entry_from_form()
    if not entry.submission:
        entry.submission = str(uuid.uuid4())
    if request.form.get("lookup"):
        return _new_ticket_page(entry)
    if entry.order_number and _visible_order(entry.order_number) is None:
        # Unknown, or out of scope: the same answer (an order fills in its customer).
        message = f"There is no order {entry.order_number}."  # as entry's check says it
        return _new_ticket_page(entry, {"order_number": message}, 422)
    try:
        new = ticket_entry.new_ticket_from_entry(db(), entry, current_user.username)
    except common.CustomerInvalid as exc:
        return _new_ticket_page(entry, exc.errors, 422)
    release_db()
    try:
        created = runtime().intake.create_ticket(new, accept_if_down=True)
    except IntakeInvalid as exc:
        return _new_ticket_page(entry, exc.errors, 422)
    if created.queued:
        flash(
            _(
                "Ticket %(number)s is stored; it appears on the desk as soon as the ticket "
                "engine answers again.",
                number=created.number,
            ),
            "success",
        )
        return redirect(url_for("desk.index"))
    flash(
        _("Ticket %(number)s is created.", number=created.number)
        if created.created
        else _("The ticket exists already."),
        "success",
    )
    return redirect(url_for("desk.ticket", number=created.number))
