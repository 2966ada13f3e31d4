"""The ticket relations and triggers part of the API's OpenAPI description (merged into
``web.api.openapi``): merging a ticket into another, links, tags, deleting a ticket; the
admins' triggers."""

from __future__ import annotations

from typing import Any

from statemachines.triggers import EVENTS
from tempodesk.contracts import LINK_KINDS
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
    "LinkRequest": _object(
        {
            "ticket": _text("The other ticket's number."),
            "kind": _text(
                "What the other ticket is to this one (duplicate: duplicate_of); DELETE: optional.",
                enum=[*LINK_KINDS, "duplicate"],
            ),
            "wait": {
                "type": "boolean",
                "description": "On a child: this parent cannot be resolved while it is open.",
            },
            "request_id": _text("Send the same id again to ask once."),
        },
        ("ticket",),
    ),
    "TagsRequest": _object(
        {
            "tags": {"type": "array", "items": _text()},
            "request_id": _text("Send the same id again to ask once."),
        },
        ("tags",),
    ),
    "SplitRequest": _object(
        {
            "message_id": {"type": "integer", "description": "A customer's message's id."},
            "request_id": _text("Send the same id again to split once."),
        },
        ("message_id",),
    ),
    "Split": _object(
        {"split_from": _text(), "ticket": _ref("TicketDetail")}, ("split_from", "ticket")
    ),
    "Related": _object({"ticket": _ref("TicketDetail")}, ("ticket",)),
    "Deleted": _object({"deleted": {"type": "array", "items": _text()}}, ("deleted",)),
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
    "/tickets/{number}/links": {
        method: _operation(
            summary,
            {
                "200": _answer("Done; the ticket with its links.", _ref("Related")),
                "400": _error("The body is not a JSON object."),
                "403": _error("Your role lets you read tickets, not act on them (code forbidden)."),
                "404": _error("No such ticket, or not yours to see."),
                "409": _error("Refused: the other ticket is unknown or the same; closed."),
                "422": _error("'ticket' is missing."),
                "503": _error("The engine did not answer; retry with the same request_id."),
            },
            operationId=operation,
            parameters=[NUMBER],
            requestBody=_body("LinkRequest"),
        )
        for method, summary, operation in (
            ("post", "Link this ticket to another (both show the link).", "linkTicket"),
            ("delete", "Unlink this ticket from another (both sides).", "unlinkTicket"),
        )
    },
    "/tickets/{number}/split": {
        "post": _operation(
            "Split a customer's message off into a new ticket of the same customer: the "
            "message moves there with its files; replies to it thread there.",
            {
                "201": _answer("Split; the new ticket.", _ref("Split")),
                "400": _error("The body is not a JSON object."),
                "403": _error("Your role lets you read tickets, not act on them (code forbidden)."),
                "404": _error("No such ticket, or not yours to see."),
                "409": _error(
                    "Refused: no such customer message here, the ticket's first message, "
                    "or the ticket is closed."
                ),
                "422": _error("'message_id' is missing."),
                "503": _error("The engine did not answer; retry with the same request_id."),
            },
            operationId="splitTicket",
            parameters=[NUMBER],
            requestBody=_body("SplitRequest"),
        )
    },
    "/tickets/{number}/tags": {
        method: _operation(
            summary,
            {
                "200": _answer("Done; the ticket with its tags.", _ref("Related")),
                "400": _error("The body is not a JSON object."),
                "403": _error("Your role lets you read tickets, not act on them (code forbidden)."),
                "404": _error("No such ticket, or not yours to see."),
                "409": _error("Refused: the ticket is closed."),
                "422": _error("'tags' is missing, or not among the admins' tags (only those)."),
                "503": _error("The engine did not answer; retry with the same request_id."),
            },
            operationId=operation,
            parameters=[NUMBER],
            requestBody=_body("TagsRequest"),
        )
        for method, summary, operation in (
            ("post", "Add tags to this ticket.", "tagTicket"),
            ("delete", "Remove tags from this ticket.", "untagTicket"),
        )
    },
    "/tickets/{number}": {
        "delete": _operation(
            "Delete this ticket for good (the right delete_tickets): its workflow, messages, "
            "files, timeline and search entry, and the tickets merged into it; audited.",
            {
                "200": _answer("Deleted (the numbers).", _ref("Deleted")),
                "403": _error("Without the right delete_tickets."),
                "404": _error("No such ticket."),
            },
            operationId="deleteTicket",
            parameters=[NUMBER],
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
