"""Orders in the REST API: the shop (which lives elsewhere) pushes its orders here.

``POST /api/v1/orders`` upserts by number (201 created, 200 updated); the customer is found by
email (else phone) or created. ``GET /api/v1/orders/<number>`` reads one. The routes join the
API blueprint (bearer tokens, JSON errors) from this module, imported at the bottom of
``web.api``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy.exc import IntegrityError

from tempodesk.people import customers
from web import db, error_response
from web.api import _json_body, bp


@bp.route("/orders", methods=["POST"])
def upsert_order() -> Any:
    body = _json_body()
    try:
        data = customers.parse_order(body)
    except customers.CustomerInvalid as exc:
        return error_response(422, "invalid", "The order cannot be saved.", fields=exc.errors)
    session = db()
    for attempt in range(2):
        try:
            order, created = customers.upsert_order(session, data)
            session.commit()
            break
        except IntegrityError:  # the same order (or customer) was created concurrently
            session.rollback()
            if attempt:
                raise
    return jsonify(customers.order_json(order)), 201 if created else 200


@bp.route("/orders/<number>", methods=["GET"])
def get_order(number: str) -> Any:
    order = customers.find_order(db(), number)
    if order is None:
        return error_response(404, "not_found", f"No order {number}.")
    return jsonify(customers.order_json(order))
