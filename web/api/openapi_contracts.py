"""The contracts part of the API's OpenAPI description (merged into ``web.api.openapi``):
customers' contracts and their entitlements, pushed as orders are."""

from __future__ import annotations

from typing import Any

from tempodesk.sla.contracts import COUNTS_ON, ENTITLEMENT_CHANNELS, ON_EXHAUSTED, UNITS
from web.api.openapi_parts import _answer, _body, _error, _nullable, _object, _operation, _text

_DAY = {"type": "string", "format": "date"}

_ENTITLEMENT = {
    "name": _text("Unique within the contract; entitlements are kept by name."),
    "unit": _text(enum=list(UNITS)),
    "allocation": {"type": "integer", "minimum": 0, "description": "Cases, or hours."},
    "channels": {
        "type": "array",
        "items": _text(enum=list(ENTITLEMENT_CHANNELS)),
        "description": "Only tickets of these channels count (empty: every channel).",
    },
    "valid_from": _nullable(_DAY),
    "valid_until": _nullable(_DAY),
    "counts_on": _text("When a ticket is counted: opened or resolved.", enum=list(COUNTS_ON)),
    "on_exhausted": _text(
        "Used up: warn, or block new tickets from the web form and the API (mail and calls "
        "still open tickets, with a warning).",
        enum=list(ON_EXHAUSTED),
    ),
}

CONTRACT_SCHEMAS: dict[str, Any] = {
    "ContractIn": _object(
        {
            "reference": _text("The outside system's key; the contract is upserted by it."),
            "name": _text(),
            "customer": _object({"email": _text(), "name": _text()}),
            "organisation": _text("An organisation's name (instead of a customer)."),
            "valid_from": _DAY,
            "valid_until": _nullable(_DAY),
            "policy": _text("An SLA policy's name: while valid, it wins over the conditions."),
            "customer_type": _text("Sets the holder's customer type (a listed one, or '')."),
            "entitlements": {"type": "array", "items": _object(_ENTITLEMENT, ("name",))},
        },
        ("reference", "valid_from"),
    ),
    "Contract": _object(
        {
            "reference": _text(),
            "name": _text(),
            "customer": _nullable(_object({"email": _text(), "name": _text()})),
            "organisation": _nullable(_text()),
            "valid_from": _DAY,
            "valid_until": _nullable(_DAY),
            "policy": _nullable(_text()),
            "entitlements": {
                "type": "array",
                "items": _object(
                    {
                        **_ENTITLEMENT,
                        "used": {"type": "number"},
                        "remaining": {"type": "number", "description": "Cases, or hours."},
                    }
                ),
            },
        },
        ("reference", "valid_from", "entitlements"),
    ),
}

REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": _text()}

CONTRACT_PATHS: dict[str, Any] = {
    "/contracts": {
        "post": _operation(
            "Create or update a customer's contract by its reference (needs the customers right).",
            {
                "200": _answer("Updated.", {"$ref": "#/components/schemas/Contract"}),
                "201": _answer("Created.", {"$ref": "#/components/schemas/Contract"}),
                "400": _error("The body is not a JSON object."),
                "403": _error("The token's user lacks the customers right."),
                "422": _error("A field is missing or not valid."),
            },
            operationId="upsertContract",
            requestBody=_body("ContractIn"),
        )
    },
    "/contracts/{reference}": {
        "get": _operation(
            "One contract, with what is used and left of each entitlement.",
            {
                "200": _answer("The contract.", {"$ref": "#/components/schemas/Contract"}),
                "403": _error("The token's user lacks the customers right."),
                "404": _error("No such contract."),
            },
            operationId="getContract",
            parameters=[REFERENCE],
        )
    },
}
