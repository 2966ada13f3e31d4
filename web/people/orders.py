"""Orders: the list with search (``go`` jumps to an exact number), an order's page with its
tickets, and the shop's CSV export uploaded here. Orders also arrive from the shop through
the API (``web.api.orders``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.core.models import Order
from tempodesk.people import orders as order_store
from tempodesk.tickets import customer_scope, queries
from web import db
from web.i18n import gettext as _
from web.people.blueprint import bp, current_actor, page_number, require_customers_right


def _visible(order: Order | None) -> Order | None:
    """The order, if the agent may see it (customer_scope), else None."""
    if order is None or not customer_scope.may_see_order(db(), current_actor(), order.id):
        return None
    return order


@bp.route("/orders")
def orders() -> Any:
    query = request.args.get("q", "")
    paged = order_store.search_orders(
        db(), query, page_number(), customer_scope.orders_clause(db(), current_actor())
    )
    exact = _visible(order_store.find_order(db(), query)) if query.strip() else None
    if exact is not None and request.args.get("go"):
        return redirect(url_for("people.order", number=exact.number))
    return render_template("people/orders.html", query=query, paged=paged)


@bp.route("/orders/<number>")
def order(number: str) -> Any:
    found = _visible(order_store.find_order(db(), number))
    if found is None:
        abort(404)
    return render_template(
        "people/order.html",
        order=found,
        tickets=queries.tickets_of_order(db(), current_actor(), found.id),
    )


@bp.route("/orders/import", methods=["GET", "POST"])
def orders_import() -> Any:
    """Upload the shop's CSV export: all rows are checked first; one bad row imports none.
    Only with the "customers" right: an import writes any customer's orders."""
    require_customers_right()
    if request.method == "GET":
        return render_template(
            "people/orders_import.html", report=None, columns=order_store.CSV_COLUMNS
        )
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV file to import."), "error")
        return (
            render_template(
                "people/orders_import.html", report=None, columns=order_store.CSV_COLUMNS
            ),
            422,
        )
    report = order_store.import_orders_csv(db(), upload.read())
    if report.imported:
        db().commit()
        current_app.logger.info(
            "orders CSV imported by %s: %d rows", current_user.username, len(report.rows)
        )
    else:
        db().rollback()
    return (
        render_template(
            "people/orders_import.html", report=report, columns=order_store.CSV_COLUMNS
        ),
        200 if report.imported else 422,
    )
