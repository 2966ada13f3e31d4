"""Tickets in REST API v1: create, list, read, the actions an agent may take now, perform one,
and add a customer's message.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import jsonify, make_response, request

from statemachines import FieldErrors
from tempodesk.contracts import CustomerRef
from tempodesk.core.ids import api_key
from tempodesk.core.temporal import ActionRejected, EngineUnavailable, TicketNotFound
from tempodesk.tickets import lists, queries, ratings, relations
from tempodesk.tickets.intake import IntakeInvalid, KeyReused, NewTicket
from web import db, error_response, release_db, runtime
from web.api.common import (
    ApiInvalid,
    api_actor,
    api_user_id,
    bp,
    fingerprint,
    idempotency_key,
    json_body,
    key_reused,
    refuse_read_only,
    text_field,
)

_REJECTION_STATUS = {
    "not_available": 409,
    "state_changed": 409,
    "closed": 409,
    "not_ready": 409,
    "forbidden": 403,
    "invalid_fields": 422,
}


@bp.route("/tickets", methods=["POST"])
def create_ticket() -> Any:
    refuse_read_only()
    body = json_body()
    customer = body.get("customer")
    if not isinstance(customer, dict):
        raise ApiInvalid(
            "invalid",
            "'customer' must be an object with at least an email.",
            422,
            fields={"customer": "Required."},
        )
    priority = body.get("priority", 2)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ApiInvalid(
            "invalid", "'priority' must be 1 to 4.", 422, fields={"priority": "1 to 4."}
        )
    key = idempotency_key(body)
    user_id = api_user_id()
    release_db()
    try:
        created = runtime().intake.create_ticket(
            NewTicket(
                subject=text_field(body, "subject"),
                body=text_field(body, "body"),
                customer=CustomerRef(
                    email=text_field(customer, "email"),
                    name=text_field(customer, "name"),
                    phone=text_field(customer, "phone"),
                ),
                channel=text_field(body, "channel", "api"),
                order_number=text_field(body, "order_number"),
                process=text_field(body, "process"),
                priority=priority,
                # Keys are per API user and endpoint: two integrations cannot collide on "1".
                idempotency_key=api_key(user_id, "tickets", key) if key else "",
                fingerprint=fingerprint(body),
            ),
            accept_if_down=True,
        )
    except KeyReused:
        return key_reused()
    except IntakeInvalid as exc:
        return error_response(422, "invalid", "The ticket cannot be created.", fields=exc.errors)
    url = f"{runtime().settings.public_url}/desk/tickets/{created.number}"
    payload: dict[str, Any] = {
        "number": created.number,
        "workflow_id": created.workflow_id,
        "state": created.state,
        "url": url,
    }
    if created.queued:
        # Stored and numbered, but the ticket engine did not answer: the worker starts it.
        payload.update(state=None, queued=True)
    response = jsonify(payload)
    if not created.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 202 if created.queued else 201


@bp.route("/tickets", methods=["GET"])
def list_tickets() -> Any:
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 200)
    except ValueError:
        raise ApiInvalid("bad_request", "'limit' must be a number from 1 to 200.") from None
    view = request.args.get("view", "all")
    if view not in lists.BY_KEY:
        raise ApiInvalid("bad_request", f"'view' is one of {', '.join(lists.BY_KEY)}.")
    try:
        criteria = dict(lists.BY_KEY[view].criteria)
        criteria.update(
            lists.clean_criteria(
                {
                    "state": request.args.getlist("state"),
                    "assignee": request.args.get("assignee"),
                    "group": request.args.get("group"),
                    "priority": request.args.getlist("priority"),
                    "rating": request.args.getlist("rating"),
                    "channel": request.args.getlist("channel"),
                    "tag": request.args.getlist("tag"),
                    "text": request.args.get("q"),
                    "fields": {
                        key.removeprefix("field."): value
                        for key, value in request.args.items()
                        if key.startswith("field.") and len(key) > 6
                    },
                }
            )
        )
        page = lists.page(
            db(),
            api_actor(),
            criteria,
            sort=request.args.get("sort", "newest"),
            limit=limit,
            cursor=request.args.get("cursor") or None,
        )
    except lists.BadQuery as exc:
        raise ApiInvalid("bad_request", str(exc)) from None
    base = runtime().settings.public_url
    return jsonify(
        {
            "items": [queries.ticket_summary(t, base) for t in page.items],
            "next_cursor": page.next_cursor,
        }
    )


def _visible(number: str) -> queries.TicketView:
    # The API shows no other tickets of the customer: not read.
    view = queries.get_ticket(db(), number, api_actor(), others=False)
    if view is None:
        raise ApiInvalid("not_found", f"No ticket {number} (or you may not see it).", 404)
    return view


def _detail(view: queries.TicketView) -> dict[str, Any]:
    """The ticket as the API shows it: its detail with its latest satisfaction rating."""
    data = queries.ticket_detail(view, runtime().settings.public_url)
    rating = ratings.latest(db(), view.ticket)
    data["rating"] = rating.as_json() if rating is not None else None
    data["links"] = relations.links_json(db(), view.ticket.number)
    return data


@bp.route("/tickets/<number>", methods=["GET"])
def get_ticket(number: str) -> Any:
    return jsonify(_detail(_visible(number)))


@bp.route("/tickets/<number>/actions", methods=["GET"])
def list_actions(number: str) -> Any:
    ticket = queries.find_ticket(db(), number, api_actor())
    if ticket is None:
        raise ApiInvalid("not_found", f"No ticket {number} (or you may not see it).", 404)
    actions = runtime().actions.available(db(), ticket, api_actor())
    return jsonify([_action_json(a) for a in actions])


def _action_json(action: Any) -> dict[str, Any]:
    return {
        "name": action.id,
        "label": action.label,
        "target": action.target,
        "confirm": action.confirm or None,
        "fields": [
            {
                "name": f.id,
                "type": f.type,
                "label": f.label,
                "required": f.required,
                "choices": [{"value": c.value, "label": c.label} for c in f.choices] or None,
            }
            for f in action.fields
        ],
    }


@bp.route("/tickets/<number>/actions/<name>", methods=["POST"])
def perform_action(number: str, name: str) -> Any:
    body = json_body() if request.content_length else {}
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise ApiInvalid("invalid", "'fields' must be an object.", 422)
    expected = body.get("expected_state")
    time_spent = body.get("time_spent", 0)
    if isinstance(time_spent, bool) or not isinstance(time_spent, int):
        raise ApiInvalid(
            "invalid", "'time_spent' must be whole minutes.", 422, fields={"time_spent": "Minutes."}
        )
    # Every action runs under a request id (the caller's, else ours): the same id again is
    # performed once, so a retry after a 503 whose outcome was unknown cannot do it twice.
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        request_id = uuid.uuid4().hex
    actor = api_actor()
    try:
        result = runtime().actions.perform(
            actor,
            number,
            name,
            fields,
            expected_state=expected if isinstance(expected, str) else None,
            request_id=f"api-{actor.username}-{request_id}"[:200],
            time_spent=time_spent,
            checks=db(),  # checked in the request's session, which it closes before the Update
        )
    except EngineUnavailable:
        return _outcome_unknown(request_id)
    except TicketNotFound:
        raise ApiInvalid("not_found", f"No ticket {number} (or you may not see it).", 404) from None
    except FieldErrors as exc:
        return error_response(
            422, "invalid_fields", "Some fields are not valid.", fields=exc.errors
        )
    except ActionRejected as exc:
        status = _REJECTION_STATUS.get(exc.code, 409)
        extra = {"fields": exc.field_errors} if exc.field_errors else {}
        return error_response(status, exc.code, exc.message, **extra)
    view = _visible(number)
    return jsonify(
        {
            "state": result.state,
            "state_label": result.state_label,
            "ticket": _detail(view),
        }
    )


def _outcome_unknown(request_id: str) -> Any:
    """503: the engine did not answer; the action may or may not have been performed."""
    response = make_response(
        error_response(
            503,
            "engine_unavailable",
            "The ticket engine did not answer; the action may have been performed. Retry with "
            "this request_id: it is performed at most once.",
            request_id=request_id,
        )
    )
    response.headers["Retry-After"] = "5"
    return response


@bp.route("/tickets/<number>/messages", methods=["POST"])
def add_customer_message(number: str) -> Any:
    """Record a message from the customer (e.g. from a chat integration)."""
    refuse_read_only()
    body = json_body()
    if queries.find_ticket(db(), number, api_actor()) is None:
        raise ApiInvalid("not_found", f"No ticket {number} (or you may not see it).", 404)
    key = idempotency_key(body)
    user_id = api_user_id()
    release_db()
    try:
        message_id = runtime().actions.customer_message(
            number,
            text_field(body, "body"),
            author=text_field(body, "author"),
            channel=text_field(body, "channel", "api"),
            idempotency_key=api_key(user_id, "messages", key) if key else "",
            fingerprint=fingerprint(body),
        )
    except FieldErrors as exc:
        if "idempotency_key" in exc.errors:
            return key_reused()
        return error_response(422, "invalid", "The message cannot be added.", fields=exc.errors)
    except TicketNotFound:
        return error_response(409, "closed", "This ticket is closed; it takes no more messages.")
    return jsonify({"message_id": message_id}), 202
