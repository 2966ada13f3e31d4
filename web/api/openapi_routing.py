"""The routing rules part of the API's OpenAPI description (merged into ``web.api.openapi``)."""

from __future__ import annotations

from typing import Any

from tempodesk.routing.rules import FIELDS, OPS
from web.api.openapi_parts import _answer, _body, _error, _object, _operation, _ref, _text

_CONDITION = _object(
    {
        "field": _text(
            f"One of {', '.join(FIELDS)}, or field:<name> (a custom field); "
            "customer_type is empty until contacts have a type"
        ),
        "op": _text(enum=list(OPS)),
        "value": {
            "description": "Text, a number, or a list (in: one of; contains: every "
            "keyword; contains_any: one of them; keywords also separated by commas)"
        },
    },
    ("field", "op"),
)
_SET = _object(
    {
        "group": _text("The group (queue) the ticket goes to"),
        "assignee": _text("An agent's username"),
        "priority": {"type": "integer", "minimum": 1, "maximum": 4},
        "process": _text("A published process, pinned when the ticket is accepted"),
        "fields": {"type": "object", "description": "Ticket fields to set"},
        "skill": _text("The skill the group's skills strategy looks for"),
    }
)
_RULE_PROPERTIES: dict[str, Any] = {
    "name": _text(maxLength=100),
    "position": {"type": "integer", "description": "Rules run from the lowest"},
    "conditions": {"type": "array", "items": _CONDITION, "maxItems": 20},
    "set": _SET,
    "stop": {"type": "boolean", "description": "true (default): the first match wins"},
    "enabled": {"type": "boolean"},
}

ROUTING_SCHEMAS: dict[str, Any] = {
    "RoutingRuleIn": _object(_RULE_PROPERTIES, ("name", "set")),
    "RoutingRule": _object(
        {"id": {"type": "integer"}, **_RULE_PROPERTIES},
        ("id", "name", "position", "conditions", "set", "stop", "enabled"),
    ),
}

_ID = {"name": "rule_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ADMIN = {"403": _error("Routing rules are for admins.")}
_MISSING = {"404": _error("No such routing rule.")}
_BAD = {
    "400": _error("The body is not a JSON object."),
    "422": _error("The rule has problems (each one in `fields`)."),
}

ROUTING_PATHS: dict[str, Any] = {
    "/routing/rules": {
        "get": _operation(
            "Every routing rule, in the order they run.",
            {
                "200": _answer("Rules.", {"type": "array", "items": _ref("RoutingRule")}),
                **_ADMIN,
            },
            operationId="listRoutingRules",
        ),
        "post": _operation(
            "Add a rule.",
            {"201": _answer("Created.", _ref("RoutingRule")), **_BAD, **_ADMIN},
            operationId="createRoutingRule",
            requestBody=_body("RoutingRuleIn"),
        ),
    },
    "/routing/rules/{rule_id}": {
        "get": _operation(
            "One rule.",
            {"200": _answer("The rule.", _ref("RoutingRule")), **_ADMIN, **_MISSING},
            operationId="getRoutingRule",
            parameters=[_ID],
        ),
        "put": _operation(
            "Replace a rule.",
            {"200": _answer("Replaced.", _ref("RoutingRule")), **_BAD, **_ADMIN, **_MISSING},
            operationId="putRoutingRule",
            parameters=[_ID],
            requestBody=_body("RoutingRuleIn"),
        ),
        "delete": _operation(
            "Delete a rule.",
            {"204": _answer("Deleted."), **_ADMIN, **_MISSING},
            operationId="deleteRoutingRule",
            parameters=[_ID],
        ),
    },
}
