"""Outbound webhooks in the REST API (admins only): subscriptions and their delivery logs.

``POST /api/v1/webhooks {"url", "events"}`` answers 201 with the subscription's id and its
secret, shown this once; ``GET``/``PATCH``/``PUT``/``DELETE`` ``/webhooks/<id>``, its
``/deliveries`` and a test ``/ping``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import jsonify, request

from tempodesk.core.models import WebhookSubscription
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.webhooks import subscriptions
from web import db, error_response, runtime
from web.api.common import ApiInvalid, api_user, bp, json_body, text_field


@bp.before_request
def _admins_only() -> Any:
    if (request.endpoint or "").startswith("api.webhook") and not api_user().is_admin:
        return error_response(403, "forbidden", "Webhooks are for admins.")
    return None


def _draft(body: dict[str, Any], base: WebhookSubscription | None = None) -> subscriptions.Draft:
    """The subscription a body asks for; fields it leaves out keep ``base``'s values."""
    events = body.get("events", list(base.events or []) if base else [])
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ApiInvalid(
            "invalid",
            "'events' must be a list of strings.",
            422,
            fields={"events": "Must be a list of strings."},
        )
    enabled = body.get("enabled", base.enabled if base else True)
    if not isinstance(enabled, bool):
        raise ApiInvalid(
            "invalid",
            "'enabled' must be true or false.",
            422,
            fields={"enabled": "Must be true or false."},
        )
    return subscriptions.Draft(
        url=text_field(body, "url", base.url if base else ""),
        events=events,
        description=text_field(body, "description", base.description if base else ""),
        enabled=enabled,
    )


def _invalid(exc: subscriptions.Invalid) -> Any:
    return error_response(422, "invalid", "The webhook cannot be saved.", fields=exc.errors)


def _subscription(subscription_id: int) -> WebhookSubscription:
    found = db().get(WebhookSubscription, subscription_id)
    if found is None:
        raise ApiInvalid("not_found", "No such webhook.", 404)
    return found


@bp.route("/webhooks", methods=["GET"])
def webhook_list() -> Any:
    return jsonify(
        [subscriptions.subscription_dict(s) for s in subscriptions.all_subscriptions(db())]
    )


@bp.route("/webhooks", methods=["POST"])
def webhook_create() -> Any:
    session = db()
    try:
        created, secret = subscriptions.create(
            session,
            _draft(json_body()),
            app_secret=runtime().settings.session_secret(),
            actor=api_user().username,
        )
    except subscriptions.Invalid as exc:
        return _invalid(exc)
    session.commit()
    return jsonify({**subscriptions.subscription_dict(created), "secret": secret}), 201


# One rule for every method of the address: with one rule per method, Werkzeug answers a
# number too large for an id with 405 instead of 404.
@bp.route("/webhooks/<int:subscription_id>", methods=["GET", "PATCH", "PUT", "DELETE"])
def webhook_one(subscription_id: int) -> Any:
    found = _subscription(subscription_id)
    if request.method == "GET":
        return jsonify(subscriptions.subscription_dict(found))
    session = db()
    if request.method == "DELETE":
        subscriptions.delete(session, found, actor=api_user().username)
        session.commit()
        return "", 204
    body = json_body()
    try:
        draft = _draft(body, found if request.method == "PATCH" else None)
        subscriptions.change(session, found, draft, actor=api_user().username)
    except subscriptions.Invalid as exc:
        session.rollback()
        return _invalid(exc)
    session.commit()
    return jsonify(subscriptions.subscription_dict(found))


@bp.route("/webhooks/<int:subscription_id>/deliveries", methods=["GET"])
def webhook_deliveries(subscription_id: int) -> Any:
    found = _subscription(subscription_id)
    rows = subscriptions.deliveries(db(), found.id)
    return jsonify({"deliveries": [subscriptions.delivery_dict(d) for d in rows]})


@bp.route("/webhooks/<int:subscription_id>/ping", methods=["POST"])
def webhook_ping(subscription_id: int) -> Any:
    """Queue a test ping and wake the subscription's delivery workflow."""
    found = _subscription(subscription_id)
    if not found.enabled:
        return error_response(409, "disabled", "The webhook is disabled; enable it first.")
    session = db()
    delivery = subscriptions.queue_ping(session, found, api_user().username)
    session.commit()
    wake(found.id)
    return jsonify(subscriptions.delivery_dict(delivery)), 202


def wake(subscription_id: int) -> None:
    """Ask the delivery workflow to send now; if the engine is away, the worker's loop
    finds the waiting delivery later."""
    with contextlib.suppress(EngineUnavailable):
        runtime().temporal.wake_webhook(subscription_id)
