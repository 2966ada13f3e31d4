"""The webhooks part of the API's OpenAPI description (merged into ``web.api.openapi``)."""

from __future__ import annotations

from typing import Any

from tempodesk.webhooks.events import EVENTS
from web.api.openapi_parts import (
    _answer,
    _body,
    _error,
    _nullable,
    _object,
    _operation,
    _ref,
    _text,
)

_EVENTS = {"type": "array", "items": _text(enum=list(EVENTS))}
_TIME = _nullable(_text(format="date-time"))

WEBHOOK_SCHEMAS: dict[str, Any] = {
    "WebhookIn": _object(
        {
            "url": _text("http(s) URL; its host is resolved and checked at each send"),
            "events": _EVENTS,
            "description": _text(),
            "enabled": {"type": "boolean"},
        },
        ("url", "events"),
    ),
    "WebhookPatch": _object(
        {
            "url": _text(),
            "events": _EVENTS,
            "description": _text(),
            "enabled": {"type": "boolean"},
        }
    ),
    "Webhook": _object(
        {
            "id": {"type": "integer"},
            "url": _text(),
            "description": _text(),
            "events": {"type": "array", "items": _text()},
            "enabled": {"type": "boolean"},
            "disabled_reason": _text("Why it is disabled (automatically: the last error)"),
            "consecutive_failures": {"type": "integer"},
            "created_by": _text(),
            "created_at": _TIME,
            "updated_at": _TIME,
            "secret": _text("Only in the answer to its creation: sign checks use it"),
        },
        ("id", "url", "events", "enabled"),
    ),
    "WebhookDelivery": _object(
        {
            "id": _text("The delivery id (X-Tempodesk-Delivery): receivers dedupe by it"),
            "event": _text(),
            "ticket": _nullable(_text()),
            "status": _text(enum=["pending", "delivered", "failed", "skipped"]),
            "attempts": {"type": "integer"},
            "response_status": _nullable({"type": "integer"}),
            "error": _text(),
            "response_excerpt": _text(),
            "created_at": _TIME,
            "last_attempt_at": _TIME,
            "finished_at": _TIME,
        },
        ("id", "event", "status", "attempts"),
    ),
}

_ID = {"name": "subscription_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ADMIN = {"403": _error("Webhooks are for admins.")}
_MISSING = {"404": _error("No such webhook.")}
_BAD = {"400": _error("The body is not a JSON object."), "422": _error("A field is not valid.")}

WEBHOOK_PATHS: dict[str, Any] = {
    "/webhooks": {
        "get": _operation(
            "Every webhook subscription.",
            {
                "200": _answer("Subscriptions.", {"type": "array", "items": _ref("Webhook")}),
                **_ADMIN,
            },
            operationId="listWebhooks",
        ),
        "post": _operation(
            "Subscribe a URL to events; the answer carries the signing secret, shown once.",
            {"201": _answer("Created.", _ref("Webhook")), **_BAD, **_ADMIN},
            operationId="createWebhook",
            requestBody=_body("WebhookIn"),
        ),
    },
    "/webhooks/{subscription_id}": {
        "get": _operation(
            "One subscription.",
            {"200": _answer("The subscription.", _ref("Webhook")), **_ADMIN, **_MISSING},
            operationId="getWebhook",
            parameters=[_ID],
        ),
        "patch": _operation(
            "Change some of its fields (enabling it again starts its failure count over).",
            {"200": _answer("Changed.", _ref("Webhook")), **_BAD, **_ADMIN, **_MISSING},
            operationId="patchWebhook",
            parameters=[_ID],
            requestBody=_body("WebhookPatch"),
        ),
        "put": _operation(
            "Replace its fields (the secret stays).",
            {"200": _answer("Replaced.", _ref("Webhook")), **_BAD, **_ADMIN, **_MISSING},
            operationId="putWebhook",
            parameters=[_ID],
            requestBody=_body("WebhookIn"),
        ),
        "delete": _operation(
            "Delete it with its delivery log.",
            {"204": _answer("Deleted."), **_ADMIN, **_MISSING},
            operationId="deleteWebhook",
            parameters=[_ID],
        ),
    },
    "/webhooks/{subscription_id}/deliveries": {
        "get": _operation(
            "Its latest deliveries, newest first: status, attempts, the receiver's answer.",
            {
                "200": _answer(
                    "Deliveries.",
                    _object(
                        {"deliveries": {"type": "array", "items": _ref("WebhookDelivery")}},
                        ("deliveries",),
                    ),
                ),
                **_ADMIN,
                **_MISSING,
            },
            operationId="listWebhookDeliveries",
            parameters=[_ID],
        )
    },
    "/webhooks/{subscription_id}/ping": {
        "post": _operation(
            "Queue a test delivery of event `ping` (sent whatever events it has).",
            {
                "202": _answer("Queued.", _ref("WebhookDelivery")),
                "409": _error("The subscription is disabled."),
                **_ADMIN,
                **_MISSING,
            },
            operationId="pingWebhook",
            parameters=[_ID],
        )
    },
}
