"""A customer presses an action on their request: one the process marks for customers
(``customers: true``, e.g. "close my request").

It goes through the ticket's workflow like an agent's action (an Update whose validator
applies ``check_action`` to an actor of kind "customer"), never a write of the ticket. Any
other action answers 403, and so does any action on a colleague's request the organisation
shares (read only); someone else's number 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField

from statemachines import ActionSpec, customer_actions
from tempodesk.core.models import Ticket
from tempodesk.core.temporal import ActionRejected, TicketNotFound
from tempodesk.tickets import processes, queries
from web import db, release_db, runtime
from web.i18n import gettext as _
from web.portal.common import bp, signed_in_contact, to_sign_in


class CustomerActionForm(FlaskForm):
    """The button's form: its CSRF token and the state the customer saw."""

    state = HiddenField()


def buttons(ticket: Ticket) -> list[ActionSpec]:
    """The actions the customer gets on their request now."""
    if ticket.state_category == "closed":
        return []
    definition = processes.definition(db(), ticket.process_name, ticket.process_version)
    try:
        return customer_actions(definition, ticket.state)
    except KeyError:
        return []


@bp.route("/tickets/<number>/actions/<action_id>", methods=["POST"])
def action(number: str, action_id: str) -> Any:
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    access = queries.portal_ticket(db(), contact, number)
    if access is None:
        abort(404)
    if not access.own:
        abort(403)  # a colleague's request, shared by the organisation: read only
    form = CustomerActionForm()
    if not form.validate_on_submit():
        abort(400)
    author = contact.email or f"contact {contact.id}"
    release_db()
    try:
        runtime().actions.customer_action(
            number,
            action_id,
            author=author,
            contact_id=contact.id,
            expected_state=form.state.data or None,
        )
    except TicketNotFound:
        abort(404)
    except ActionRejected as exc:
        if exc.code in ("forbidden", "not_available"):
            abort(403)
        flash(_("Your request has meanwhile changed; see its state below."), "error")
        return redirect(url_for("portal.ticket", number=number)), 303
    flash(_("Done."), "info")
    return redirect(url_for("portal.ticket", number=number), 303)
