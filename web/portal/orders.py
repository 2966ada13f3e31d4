"""The customer's orders ("my orders"): read-only, each with the customer's own requests
about it (someone else's request about the same order stays theirs)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from tempodesk.people.contacts import orders_of
from tempodesk.tickets import queries
from web import db
from web.portal.common import bp, signed_in_contact, to_sign_in


@bp.route("/orders")
def orders() -> Any:
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    mine = orders_of(db(), contact.id)
    requests: dict[int, list[Any]] = {}
    for ticket in queries.customer_tickets(db(), contact):
        if ticket.order_id is not None:
            requests.setdefault(ticket.order_id, []).append(ticket)
    rows = [(order, requests.get(order.id, [])) for order in mine]
    return render_template("portal/orders.html", contact=contact, rows=rows)
