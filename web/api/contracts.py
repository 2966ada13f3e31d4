"""Contracts in the REST API: a CRM or billing system pushes its customers' contracts here,
as the shop pushes orders (``web.api.orders``).

``POST /api/v1/contracts`` upserts by ``reference`` (201 created, 200 updated): the holder is
a contact (found by email or created) or an organisation (by name); ``entitlements``, when
sent, replace the contract's (kept by name, so their use stays counted); ``customer_type``,
when sent, sets the holder's. ``GET /api/v1/contracts/<reference>`` reads one with what is
used and left of each entitlement. Both need the customers right. A saved contract tells the
holder's open tickets (the signal ``sla_changed``): each chooses its policy again.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from flask import jsonify
from sqlalchemy.exc import IntegrityError

from tempodesk.core.temporal import EngineUnavailable
from tempodesk.people import common
from tempodesk.sla import contracts, entitlements
from tempodesk.tickets import customer_scope
from web import db, error_response, runtime
from web.api.common import api_actor, bp, json_body


@bp.route("/contracts", methods=["POST"])
def upsert_contract() -> Any:
    actor = api_actor()
    if not customer_scope.sees_all_customers(actor):
        return error_response(403, "forbidden", "Writing contracts needs the customers right.")
    try:
        data = contracts.parse_contract(json_body())
    except common.CustomerInvalid as exc:
        return error_response(422, "invalid", "The contract cannot be saved.", fields=exc.errors)
    session = db()
    for attempt in range(2):
        try:
            contract, created = contracts.upsert_contract(session, data, actor.username)
            session.commit()
            break
        except common.CustomerInvalid as exc:
            session.rollback()
            return error_response(
                422, "invalid", "The contract cannot be saved.", fields=exc.errors
            )
        except IntegrityError:  # the same contract (or customer) was created concurrently
            session.rollback()
            if attempt:
                raise
    numbers = contracts.open_tickets_of(
        session, contact_id=contract.contact_id, organisation_id=contract.organisation_id
    )
    if numbers:  # they choose their policy again; away, they take it at their next change
        with suppress(EngineUnavailable):
            runtime().temporal.sla_changed(numbers, "contract changed")
    return jsonify(entitlements.contract_json(session, contract)), 201 if created else 200


@bp.route("/contracts/<reference>", methods=["GET"])
def get_contract(reference: str) -> Any:
    if not customer_scope.sees_all_customers(api_actor()):
        return error_response(403, "forbidden", "Reading contracts needs the customers right.")
    contract = contracts.find_contract(db(), reference)
    if contract is None:
        return error_response(404, "not_found", f"No contract {reference}.")
    return jsonify(entitlements.contract_json(db(), contract))
