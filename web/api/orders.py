"""Orders in the REST API: the shop (which lives elsewhere) pushes its orders here.

``POST /api/v1/orders`` upserts by number (201 created, 200 updated); the customer is found by
email (else phone) or created. ``GET /api/v1/orders/<number>`` reads one.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy.exc import IntegrityError

from tempodesk.people import common, orders
from tempodesk.tickets import customer_scope
from web import db, error_response
from web.api.common import api_actor, bp, json_body


@bp.route("/orders", methods=["POST"])
def upsert_order() -> Any:
    if not customer_scope.sees_all_customers(api_actor()):
        return error_response(403, "forbidden", "Writing orders needs the customers right.")
    body = json_body()
    try:
        data = orders.parse_order(body)
    except common.CustomerInvalid as exc:
        return error_response(422, "invalid", "The order cannot be saved.", fields=exc.errors)
    session = db()
    for attempt in range(2):
        try:
            order, created = orders.upsert_order(session, data)
            session.commit()
            break
        except IntegrityError:  # the same order (or customer) was created concurrently
            session.rollback()
            if attempt:
                raise
    return jsonify(orders.order_json(order)), 201 if created else 200


@bp.route("/orders/<number>", methods=["GET"])
def get_order(number: str) -> Any:
    order = orders.find_order(db(), number)
    if order is None or not customer_scope.may_see_order(db(), api_actor(), order.id):
        return error_response(404, "not_found", f"No order {number}.")
    return jsonify(orders.order_json(order))
