"""REST API v1: JSON in and out, ``Authorization: Bearer <token>``.

Errors are ``{"error": {"code": ..., "message": ...}}`` with the HTTP status saying which kind.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import BadRequest

from statemachines import FieldErrors
from tempodesk.contracts import Actor, CustomerRef
from tempodesk.core.models import User
from tempodesk.core.temporal import ActionRejected, TicketNotFound
from tempodesk.mail import mailboxes
from tempodesk.people import accounts
from tempodesk.tickets import lists, processes, queries
from tempodesk.tickets.intake import IntakeInvalid, NewTicket
from web import db, error_response, release_db, runtime

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_REJECTION_STATUS = {
    "not_available": 409,
    "state_changed": 409,
    "closed": 409,
    "not_ready": 409,
    "forbidden": 403,
    "invalid_fields": 422,
}


@bp.before_request
def _authenticate() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
    scope = "inbound" if request.endpoint == "api.inbound_email" else "api"
    user = accounts.user_for_token(db(), token.strip(), scope)
    if user is None:
        return error_response(401, "unauthorized", "The API token is not valid.")
    if db().dirty:
        db().commit()  # last_used_at, refreshed at most every few minutes
    g.api_user = user
    g.api_actor = accounts.actor_for(user)
    return None


def _user() -> User:
    user: User = g.api_user
    return user


def _actor() -> Actor:
    actor: Actor = g.api_actor
    return actor


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise _Invalid("bad_request", "Send a JSON body with 'Content-Type: application/json'.")
    try:
        body = request.get_json()
    except BadRequest:
        raise _Invalid("bad_request", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _Invalid("bad_request", "The body must be a JSON object.")
    return body


class _Invalid(Exception):
    def __init__(self, code: str, message: str, status: int = 400, **extra: Any):
        self.code, self.message, self.status, self.extra = code, message, status, extra


@bp.errorhandler(_Invalid)
def _invalid(exc: _Invalid) -> Any:
    return error_response(exc.status, exc.code, exc.message, **exc.extra)


def _text(body: dict[str, Any], key: str, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _Invalid(
            "invalid", f"'{key}' must be a string.", 422, fields={key: "Must be a string."}
        )
    return value


@bp.route("/tickets", methods=["POST"])
def create_ticket() -> Any:
    body = _json_body()
    customer = body.get("customer")
    if not isinstance(customer, dict):
        raise _Invalid(
            "invalid",
            "'customer' must be an object with at least an email.",
            422,
            fields={"customer": "Required."},
        )
    priority = body.get("priority", 2)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise _Invalid("invalid", "'priority' must be 1 to 4.", 422, fields={"priority": "1 to 4."})
    key = _text(body, "idempotency_key")
    user = _user()
    release_db()
    try:
        created = runtime().intake.create_ticket(
            NewTicket(
                subject=_text(body, "subject"),
                body=_text(body, "body"),
                customer=CustomerRef(
                    email=_text(customer, "email"),
                    name=_text(customer, "name"),
                    phone=_text(customer, "phone"),
                ),
                channel=_text(body, "channel", "api"),
                order_number=_text(body, "order_number"),
                process=_text(body, "process"),
                priority=priority,
                # Keys are per API user: two integrations cannot collide on "1".
                idempotency_key=f"api:{user.id}:{key}" if key else "",
            ),
            accept_if_down=True,
        )
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
        raise _Invalid("bad_request", "'limit' must be a number from 1 to 200.") from None
    view = request.args.get("view", "all")
    if view not in lists.BY_KEY:
        raise _Invalid("bad_request", f"'view' is one of {', '.join(lists.BY_KEY)}.")
    try:
        criteria = dict(lists.BY_KEY[view].criteria)
        criteria.update(
            lists.clean_criteria(
                {
                    "state": request.args.getlist("state"),
                    "assignee": request.args.get("assignee"),
                    "group": request.args.get("group"),
                    "priority": request.args.getlist("priority"),
                    "channel": request.args.getlist("channel"),
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
            _actor(),
            criteria,
            sort=request.args.get("sort", "newest"),
            limit=limit,
            cursor=request.args.get("cursor") or None,
        )
    except lists.BadQuery as exc:
        raise _Invalid("bad_request", str(exc)) from None
    base = runtime().settings.public_url
    return jsonify(
        {
            "items": [queries.ticket_summary(t, base) for t in page.items],
            "next_cursor": page.next_cursor,
        }
    )


def _visible(number: str) -> queries.TicketView:
    view = queries.get_ticket(db(), number, _actor())
    if view is None:
        raise _Invalid("not_found", f"No ticket {number} (or you may not see it).", 404)
    return view


@bp.route("/tickets/<number>", methods=["GET"])
def get_ticket(number: str) -> Any:
    return jsonify(queries.ticket_detail(_visible(number), runtime().settings.public_url))


@bp.route("/tickets/<number>/actions", methods=["GET"])
def list_actions(number: str) -> Any:
    ticket = queries.find_ticket(db(), number, _actor())
    if ticket is None:
        raise _Invalid("not_found", f"No ticket {number} (or you may not see it).", 404)
    actions = runtime().actions.available(db(), ticket, _actor())
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
    body = _json_body() if request.content_length else {}
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise _Invalid("invalid", "'fields' must be an object.", 422)
    expected = body.get("expected_state")
    request_id = body.get("request_id")
    actor = _actor()
    release_db()
    try:
        result = runtime().actions.perform(
            actor,
            number,
            name,
            fields,
            expected_state=expected if isinstance(expected, str) else None,
            request_id=f"api-{actor.username}-{request_id}"[:200]
            if isinstance(request_id, str) and request_id
            else None,
        )
    except TicketNotFound:
        raise _Invalid("not_found", f"No ticket {number} (or you may not see it).", 404) from None
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
            "ticket": queries.ticket_detail(view, runtime().settings.public_url),
        }
    )


@bp.route("/inbound/email", methods=["POST"])
def inbound_email() -> Any:
    """A raw RFC 822 message pushed by a mail provider; 202 only once it is durable."""
    name = request.args.get("mailbox", "")
    with db() as session:
        try:
            config = mailboxes.config(session, name, runtime().settings)
        except mailboxes.UnknownMailbox:
            raise _Invalid("not_found", f"There is no mailbox '{name}'.", 404) from None
    # The message may be far larger than ordinary API requests (the mailbox's limit).
    request.max_content_length = config.max_bytes
    if request.mimetype not in ("message/rfc822", "application/octet-stream"):
        raise _Invalid(
            "unsupported_media_type",
            "Send the raw message with 'Content-Type: message/rfc822'.",
            415,
        )
    raw = request.get_data(cache=False)
    if not raw:
        raise _Invalid("bad_request", "The body is empty: send the raw message.")
    release_db()
    outcome = runtime().inbound.receive(name, raw, source="api")
    return jsonify(
        {"outcome": outcome.outcome, "ticket": outcome.ticket, "reason": outcome.reason}
    ), 202


@bp.route("/processes", methods=["GET"])
def list_processes() -> Any:
    """Published processes and their versions (newest first)."""
    session = db()
    result = []
    for name in processes.names(session):
        rows = processes.versions(session, name)
        result.append(
            {
                "name": name,
                "label": processes.definition(session, name, rows[0].version).label,
                "latest_version": rows[0].version,
                "versions": [
                    {
                        "version": row.version,
                        "created_at": queries.iso(row.created_at),
                        "created_by": row.created_by,
                    }
                    for row in rows
                ],
            }
        )
    return jsonify(result)


@bp.route("/tickets/<number>/messages", methods=["POST"])
def add_customer_message(number: str) -> Any:
    """Record a message from the customer (e.g. from a chat integration)."""
    body = _json_body()
    if queries.find_ticket(db(), number, _actor()) is None:
        raise _Invalid("not_found", f"No ticket {number} (or you may not see it).", 404)
    key = _text(body, "idempotency_key")
    user = _user()
    release_db()
    try:
        message_id = runtime().actions.customer_message(
            number,
            _text(body, "body"),
            author=_text(body, "author"),
            channel=_text(body, "channel", "api"),
            idempotency_key=f"api:{user.id}:{key}" if key else "",
        )
    except FieldErrors as exc:
        return error_response(422, "invalid", "The message cannot be added.", fields=exc.errors)
    except TicketNotFound:
        return error_response(409, "closed", "This ticket is closed; it takes no more messages.")
    return jsonify({"message_id": message_id}), 202


# The orders endpoints live in their own module; importing it adds its routes to ``bp``.
from web import api_orders as _api_orders  # noqa: E402,F401
