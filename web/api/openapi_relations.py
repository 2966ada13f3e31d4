"""The ticket relations and triggers part of the API's OpenAPI description (merged into
``web.api.openapi``): merging a ticket into another; the admins' triggers."""

from __future__ import annotations

from typing import Any

from statemachines.triggers import EVENTS
from web.api.openapi_parts import _answer, _body, _error, _object, _operation, _ref, _text

NUMBER = {"name": "number", "in": "path", "required": True, "schema": _text()}

RELATION_SCHEMAS: dict[str, Any] = {
    "MergeRequest": _object(
        {
            "into": _text("The number of the ticket that stays (it takes the messages)."),
            "request_id": _text("Send the same id again to merge once."),
        },
        ("into",),
    ),
    "Trigger": _object(
        {
            "id": {
                "type": "integer",
                "description": "Send a stored trigger's id to change it in place (its "
                "firings stay counted); without it the trigger is new.",
            },
            "name": _text(),
            "on": _text(enum=list(EVENTS)),
            "enabled": {"type": "boolean"},
            "conditions": {"type": "array", "items": {"type": "object"}},
            "actions": {"type": "array", "items": {"type": "object"}},
            "hours": {
                "type": "integer",
                "description": "on idle: business hours without activity (1 to 8,784).",
            },
            "calendar": _text("on idle: the calendar when the ticket has no SLA policy."),
        },
        ("name", "on", "actions"),
    ),
    "Triggers": _object(
        {
            "triggers": {"type": "array", "items": _ref("Trigger")},
            "open_tickets_told": {"type": "boolean"},
        },
        ("triggers",),
    ),
    "Merged": _object(
        {"merged_into": _text(), "ticket": _ref("TicketDetail")}, ("merged_into", "ticket")
    ),
}

RELATION_PATHS: dict[str, Any] = {
    "/tickets/{number}/merge": {
        "post": _operation(
            "Merge this ticket into another: its messages and events show on that ticket, it "
            "ends in the state merged and answers with merged_into; mail to it follows.",
            {
                "200": _answer("Merged; the ticket that stays.", _ref("Merged")),
                "400": _error("The body is not a JSON object."),
                "403": _error("Your role lets you read tickets, not act on them (code forbidden)."),
                "404": _error("No such ticket, or not yours to see."),
                "409": _error(
                    "Refused (code merge_refused): the other ticket is unknown, "
                    "closed, or the same; this one is closed."
                ),
                "422": _error("'into' is missing."),
                "503": _error("The engine did not answer; retry with the same request_id."),
            },
            operationId="mergeTicket",
            parameters=[NUMBER],
            requestBody=_body("MergeRequest"),
        )
    },
    "/triggers": {
        "get": _operation(
            "Every trigger, in order (admins).",
            {"200": _answer("The triggers.", _ref("Triggers")), "403": _error("Not an admin.")},
            operationId="listTriggers",
        ),
        "put": _operation(
            "Replace every trigger (admins), in order; open tickets are told.",
            {
                "200": _answer("Stored.", _ref("Triggers")),
                "400": _error("The body is not a JSON object."),
                "403": _error("Not an admin."),
                "422": _error("A trigger is not valid (fields by index: 1.on)."),
            },
            operationId="replaceTriggers",
            requestBody=_body("Triggers"),
        ),
    },
}
