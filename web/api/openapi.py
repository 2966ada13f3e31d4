"""The OpenAPI 3.1 description of REST API v1, served at ``GET /api/v1/openapi.json``.

Written by hand next to the endpoints it describes (one module per resource, this one for the
whole API), and held to them twice in the tests: every route of the blueprint must be
described here, and schemathesis fuzzes every operation from this document against the real
app (no 5xx, every answer matches its schema).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from tempodesk.tickets import lists
from tempodesk.tickets.intake import CHANNELS
from web import runtime
from web.api import report_spec
from web.api.common import bp
from web.api.openapi_contracts import CONTRACT_PATHS, CONTRACT_SCHEMAS
from web.api.openapi_parts import (
    JSON,
    _answer,
    _body,
    _error,
    _nullable,
    _object,
    _operation,
    _ref,
    _text,
)
from web.api.openapi_relations import RELATION_PATHS, RELATION_SCHEMAS
from web.api.openapi_routing import ROUTING_PATHS, ROUTING_SCHEMAS
from web.api.openapi_webhooks import WEBHOOK_PATHS, WEBHOOK_SCHEMAS

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": _text("Machine-readable: invalid, not_found, closed, ..."),
                    "message": _text("For people, in English."),
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Per-field problems, keyed like the request body.",
                    },
                },
                ("code", "message"),
            )
        },
        ("error",),
    ),
    "Customer": _object(
        {
            "email": _text("The customer's email address (or give a phone)."),
            "name": _text(),
            "phone": _text(),
        }
    ),
    "NewTicket": _object(
        {
            "subject": _text(),
            "body": _text("The customer's request, plain text."),
            "customer": _ref("Customer"),
            "channel": _text("Where the request came from (default: api).", enum=list(CHANNELS)),
            "order_number": _text("Links the ticket to this order."),
            "process": _text("The process to follow (default: the default process)."),
            "priority": {"type": "integer", "minimum": 1, "maximum": 4, "default": 2},
            "idempotency_key": _text("Send the same key again to get the same ticket back."),
        },
        ("subject", "customer"),
    ),
    "TicketCreated": _object(
        {
            "number": _text(),
            "workflow_id": _text(),
            "state": _nullable(_text("null while queued")),
            "url": _text(format="uri"),
            "queued": {
                "type": "boolean",
                "description": "Stored and numbered; the engine starts it shortly.",
            },
        },
        ("number", "workflow_id", "state", "url"),
    ),
    "TicketSummary": _object(
        {
            "number": _text(),
            "workflow_id": _text(),
            "subject": _text(),
            "state": _text(),
            "state_label": _text(),
            "state_category": _text(
                enum=["new", "open", "pending", "resolved", "closed", "merged"]
            ),
            "assignee": _nullable(_text()),
            "group": _nullable(_text()),
            "priority": {"type": "integer"},
            "channel": _text(),
            "customer_email": _text(),
            "customer_name": _text(),
            "process": _object(
                {"name": _text(), "version": {"type": "integer"}}, ("name", "version")
            ),
            "form": _nullable(_text()),
            "fields": {
                "type": "object",
                "description": "Set by actions, and a web form's custom fields by their keys.",
            },
            "created_at": _nullable(_text(format="date-time")),
            "updated_at": _nullable(_text(format="date-time")),
            "url": _text(format="uri"),
            "merged_into": _nullable(_text("Merged: the ticket that took its messages.")),
        },
        ("number", "state", "state_category", "subject", "url"),
    ),
    "TicketPage": _object(
        {
            "items": {"type": "array", "items": _ref("TicketSummary")},
            "next_cursor": _nullable(_text("Pass as `cursor` for the next page.")),
        },
        ("items", "next_cursor"),
    ),
    "Message": _object(
        {
            "id": {"type": "integer"},
            "sender_role": _text(),
            "channel": _text(),
            "internal": {"type": "boolean"},
            "author": _nullable(_text()),
            "subject": _nullable(_text()),
            "body": _text(),
            "created_at": _nullable(_text(format="date-time")),
            "delivery_status": _nullable(_text()),
        },
        ("id", "sender_role", "internal", "body"),
    ),
    "Event": _object(
        {
            "seq": {"type": "integer"},
            "kind": _text(),
            "action": _nullable(_text()),
            "actor": _nullable(_text()),
            "from_state": _nullable(_text()),
            "to_state": _nullable(_text()),
            "message_ids": {"type": "array", "items": {"type": "integer"}},
            "data": {},
            "at": _nullable(_text(format="date-time")),
        },
        ("seq", "kind"),
    ),
    "TicketDetail": {
        "allOf": [
            _ref("TicketSummary"),
            _object(
                {
                    "sla": {
                        "type": "array",
                        "description": "The ticket's SLA targets (empty without a policy).",
                        "items": _object(
                            {
                                "target": _text(
                                    enum=["first_response", "next_response", "resolution"]
                                ),
                                "due_at": _nullable(_text("null while paused", format="date-time")),
                                "state": _text(enum=["running", "paused", "met", "breached"]),
                                "breached_by_seconds": {
                                    "type": "integer",
                                    "description": "Only when breached: how late (so far).",
                                },
                            },
                            ("target", "due_at", "state"),
                        ),
                    },
                    "time_spent": {
                        "type": "integer",
                        "description": "Minutes agents recorded on its actions.",
                    },
                    "entitlements": {
                        "type": "array",
                        "description": "What the customer's contracts have left that apply.",
                        "items": _object(
                            {
                                "name": _text(),
                                "unit": _text(enum=["cases", "hours"]),
                                "remaining": _text("Cases, or hours (e.g. 2.5)."),
                            }
                        ),
                    },
                    "customer": _object(
                        {
                            "id": _nullable({"type": "integer"}),
                            "name": _nullable(_text()),
                            "email": _nullable(_text()),
                            "phone": _nullable(_text()),
                            "organisation": _nullable(_text()),
                            "account_owner": _nullable(_text()),
                        }
                    ),
                    "order": _nullable(
                        _object(
                            {
                                "number": _text(),
                                "status": _nullable(_text()),
                                "total": _nullable(_text()),
                                "placed_at": _nullable(_text(format="date-time")),
                                "items": {},
                            },
                            ("number",),
                        )
                    ),
                    "messages": {"type": "array", "items": _ref("Message")},
                    "events": {"type": "array", "items": _ref("Event")},
                    "rating": _nullable(
                        _object(
                            {
                                "score": {"type": "integer", "minimum": 1, "maximum": 5},
                                "at": _nullable(_text(format="date-time")),
                                "agent": _text("The agent whose answer was rated."),
                                "via": _text("Where the customer rated: email or portal."),
                                "comment": _text("The customer's comment (may be empty)."),
                            },
                            ("score", "at", "agent", "via", "comment"),
                        )
                    ),
                },
                ("customer", "order", "messages", "events", "rating"),
            ),
        ]
    },
    "Action": _object(
        {
            "name": _text(),
            "label": _text(),
            "target": _nullable(_text("The state the action leads to (null: stays).")),
            "confirm": _nullable(_text()),
            "fields": {
                "type": "array",
                "items": _object(
                    {
                        "name": _text(),
                        "type": _text(),
                        "label": _text(),
                        "required": {"type": "boolean"},
                        "choices": _nullable(
                            {
                                "type": "array",
                                "items": _object({"value": _text(), "label": _text()}),
                            }
                        ),
                    },
                    ("name", "type", "required"),
                ),
            },
        },
        ("name", "label", "fields"),
    ),
    "ActionRequest": _object(
        {
            "fields": {"type": "object", "description": "The action's fields by name."},
            "expected_state": _text("Refuse if the ticket has moved on meanwhile."),
            "time_spent": {
                "type": "integer",
                "minimum": 0,
                "maximum": 1440,
                "description": "Minutes spent (recorded on the event, summed per ticket).",
            },
            "request_id": _text("Send the same id again to get the same result back."),
        }
    ),
    "ActionDone": _object(
        {"state": _text(), "state_label": _text(), "ticket": _ref("TicketDetail")},
        ("state", "state_label", "ticket"),
    ),
    "CustomerMessage": _object(
        {
            "body": _text(),
            "author": _text("Who wrote it (default: the ticket's customer)."),
            "channel": _text("Where it came from (default: api)."),
            "idempotency_key": _text("Send the same key again to store it once."),
        },
        ("body",),
    ),
    "MessageAccepted": _object({"message_id": {"type": "integer"}}, ("message_id",)),
    "InboundOutcome": _object(
        {
            "outcome": _text(enum=["ticket", "follow_up", "ignored", "quarantined", "stored"]),
            "ticket": _nullable(_text()),
            "reason": _nullable(_text()),
        },
        ("outcome",),
    ),
    "OrderCustomer": _object(
        {
            "id": {"type": "integer"},
            "name": _nullable(_text()),
            "email": _nullable(_text()),
            "phone": _nullable(_text()),
        }
    ),
    "OrderItem": _object(
        {"sku": _text(), "name": _text(), "qty": {"type": "integer"}, "price": _text()}
    ),
    "OrderIn": _object(
        {
            "number": _text(pattern="^[A-Za-z0-9._-]+$"),
            "customer": _ref("Customer"),
            "placed_at": _text("ISO date or date-time."),
            "status": _text(),
            "total": _text(),
            "items": {"type": "array", "items": _ref("OrderItem")},
        },
        ("number", "customer"),
    ),
    "Order": _object(
        {
            "number": _text(),
            "customer": _nullable(_ref("OrderCustomer")),
            "placed_at": _nullable(_text(format="date-time")),
            "status": _nullable(_text()),
            "total": _nullable(_text()),
            "items": {"type": "array"},
        },
        ("number", "customer", "items"),
    ),
    "Process": _object(
        {
            "name": _text(),
            "label": _text(),
            "latest_version": {"type": "integer"},
            "versions": {
                "type": "array",
                "items": _object(
                    {
                        "version": {"type": "integer"},
                        "created_at": _nullable(_text(format="date-time")),
                        "created_by": _nullable(_text()),
                    },
                    ("version",),
                ),
            },
        },
        ("name", "latest_version", "versions"),
    ),
    **report_spec.SCHEMAS,
}

SCHEMAS["KbArticle"] = _object(
    {
        "id": {"type": "integer"},
        "title": _text(),
        "language": _text(),
        "public": {"type": "boolean"},
        "url": _nullable(_text("The public address (public articles).")),
        "category": _nullable(_text()),
        "html": _text("The body, sanitised HTML."),
        "text": _text("The body as plain text."),
        "updated_at": _nullable(_text(format="date-time")),
        "helpful_yes": {"type": "integer"},
        "helpful_no": {"type": "integer"},
    },
    ("id", "title", "language", "public", "html", "text"),
)

NUMBER = {"name": "number", "in": "path", "required": True, "schema": _text()}


PATHS: dict[str, Any] = {
    "/tickets": {
        "post": _operation(
            "Open a ticket for a customer (201; 202 when queued while the engine is away).",
            {
                "201": _answer(
                    "Created (or the same ticket again for a known key).", _ref("TicketCreated")
                ),
                "202": _answer("Stored and numbered; the engine starts it.", _ref("TicketCreated")),
                "400": _error("The body is not a JSON object."),
                "403": _error("Your role lets you read tickets, not act on them (code forbidden)."),
                "422": _error("A field is missing or not valid."),
            },
            operationId="createTicket",
            requestBody=_body("NewTicket"),
        ),
        "get": _operation(
            "Tickets the token's user may see, newest first, a page at a time.",
            {
                "200": _answer("A page of tickets.", _ref("TicketPage")),
                "400": _error("A query parameter is not valid."),
            },
            operationId="listTickets",
            parameters=[
                {
                    "name": "limit",
                    "in": "query",
                    "description": "Tickets per page, 1 to 200 (others are clamped).",
                    "schema": {"type": "integer", "default": 50},
                },
                {"name": "view", "in": "query", "schema": _text(enum=list(lists.BY_KEY))},
                {"name": "state", "in": "query", "schema": {"type": "array", "items": _text()}},
                {"name": "assignee", "in": "query", "schema": _text()},
                {"name": "group", "in": "query", "schema": _text()},
                {
                    "name": "priority",
                    "in": "query",
                    "schema": {"type": "array", "items": _text()},
                },
                {
                    "name": "rating",
                    "in": "query",
                    "description": "Satisfaction: a score 1 to 5, or 'rated' for any.",
                    "schema": {"type": "array", "items": _text()},
                },
                {"name": "channel", "in": "query", "schema": {"type": "array", "items": _text()}},
                {"name": "q", "in": "query", "schema": _text()},
                {"name": "sort", "in": "query", "schema": _text(enum=list(lists.SORTS))},
                {"name": "cursor", "in": "query", "schema": _text()},
            ],
        ),
    },
    "/tickets/{number}": {
        "get": _operation(
            "One ticket with its customer, order, messages and history.",
            {
                "200": _answer("The ticket.", _ref("TicketDetail")),
                "404": _error("No such ticket, or not yours to see."),
            },
            operationId="getTicket",
            parameters=[NUMBER],
        )
    },
    "/tickets/{number}/actions": {
        "get": _operation(
            "The actions the token's user may take on the ticket now.",
            {
                "200": _answer("Actions.", {"type": "array", "items": _ref("Action")}),
                "404": _error("No such ticket, or not yours to see."),
            },
            operationId="listActions",
            parameters=[NUMBER],
        )
    },
    "/tickets/{number}/actions/{name}": {
        "post": _operation(
            "Take an action (the same checks as the desk's buttons).",
            {
                "200": _answer("Done; the ticket as it is now.", _ref("ActionDone")),
                "400": _error("The body is not a JSON object."),
                "403": _error(
                    "You may not take this action (not your group's, or your role reads only)."
                ),
                "404": _error("No such ticket, or not yours to see."),
                "409": _error("Not available in the ticket's state, or it moved on."),
                "422": _error("A field is missing or not valid."),
            },
            operationId="performAction",
            parameters=[
                NUMBER,
                {"name": "name", "in": "path", "required": True, "schema": _text()},
            ],
            requestBody={"content": {JSON: {"schema": _ref("ActionRequest")}}},
        )
    },
    "/tickets/{number}/messages": {
        "post": _operation(
            "Add a message from the customer (e.g. from a chat).",
            {
                "202": _answer("Stored; the ticket takes it in shortly.", _ref("MessageAccepted")),
                "400": _error("The body is not a JSON object."),
                "403": _error("Your role lets you read tickets, not act on them (code forbidden)."),
                "404": _error("No such ticket, or not yours to see."),
                "409": _error("The ticket is closed."),
                "422": _error("A field is missing or not valid."),
            },
            operationId="addCustomerMessage",
            parameters=[NUMBER],
            requestBody=_body("CustomerMessage"),
        )
    },
    "/inbound/email": {
        "post": _operation(
            "A raw RFC 822 message pushed by a mail provider (a token with the inbound scope). "
            "A message that fails to route answers 503: push it again; the third failure "
            "quarantines it (202, outcome quarantined).",
            {
                "202": _answer("Durable; what became of it.", _ref("InboundOutcome")),
                "400": _error("The body is empty."),
                "404": _error("No such mailbox."),
                "413": _error("Larger than the mailbox's limit."),
                "415": _error("Not message/rfc822."),
            },
            operationId="inboundEmail",
            parameters=[{"name": "mailbox", "in": "query", "required": True, "schema": _text()}],
            requestBody={
                "required": True,
                "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
            },
        )
    },
    "/orders": {
        "post": _operation(
            "Create or update an order by its number (the shop pushes its orders).",
            {
                "200": _answer("Updated.", _ref("Order")),
                "201": _answer("Created.", _ref("Order")),
                "400": _error("The body is not a JSON object."),
                "422": _error("A field is missing or not valid."),
            },
            operationId="upsertOrder",
            requestBody=_body("OrderIn"),
        )
    },
    "/orders/{number}": {
        "get": _operation(
            "One order.",
            {"200": _answer("The order.", _ref("Order")), "404": _error("No such order.")},
            operationId="getOrder",
            parameters=[NUMBER],
        )
    },
    "/processes": {
        "get": _operation(
            "Published processes and their versions, newest first.",
            {"200": _answer("Processes.", {"type": "array", "items": _ref("Process")})},
            operationId="listProcesses",
        )
    },
    "/kb/articles": {
        "get": _operation(
            "Published knowledge-base articles matching q (all words, the last a prefix), "
            "newest first: the public ones, or with internal=true the internal ones too.",
            {
                "200": _answer(
                    "Articles.",
                    _object(
                        {"articles": {"type": "array", "items": _ref("KbArticle")}},
                        ("articles",),
                    ),
                ),
            },
            operationId="searchKbArticles",
            parameters=[
                {"name": "q", "in": "query", "schema": _text(maxLength=200)},
                {"name": "lang", "in": "query", "schema": _text(enum=["en", "cs"])},
                {"name": "internal", "in": "query", "schema": _text(enum=["true", "false"])},
                {
                    "name": "limit",
                    "in": "query",
                    "description": "Articles, 1 to 100 (others are clamped).",
                    "schema": {"type": "integer", "default": 20},
                },
            ],
        )
    },
    "/reports/{name}": {"get": _operation(**report_spec.OPERATION)},
    "/openapi.json": {
        "get": {
            "summary": "This description (no token needed).",
            "operationId": "openapi",
            "security": [],
            "responses": {"200": _answer("OpenAPI 3.1.", {"type": "object"})},
        }
    },
}


PARTS = (WEBHOOK_PATHS, ROUTING_PATHS, RELATION_PATHS, CONTRACT_PATHS)
for part in PARTS:  # a part may add a method to a path (/tickets/{number} its DELETE)
    for path, operations in part.items():
        PATHS.setdefault(path, {}).update(operations)
for schemas in (WEBHOOK_SCHEMAS, ROUTING_SCHEMAS, RELATION_SCHEMAS, CONTRACT_SCHEMAS):
    SCHEMAS.update(schemas)


def document(server_url: str) -> dict[str, Any]:
    """The whole description, for the API at ``server_url`` (…/api/v1)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tempodesk REST API",
            "version": "1",
            "description": "Tickets, customer messages, pushed mail, orders, processes, "
            "knowledge-base articles, webhooks and reports. "
            "Send 'Authorization: Bearer <token>' (tokens: the admin's Users page or "
            '`tempodesk create-token`). Errors are {"error": {"code", "message", "fields"?}}.',
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Any:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(document(f"{runtime().settings.public_url}/api/v1"))
