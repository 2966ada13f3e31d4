"""Outbound webhooks: the delivery workflow of one subscription and its activities.

The payloads themselves never travel through workflow history: they are rows of
``webhook_deliveries`` (written with the ticket's projection), referred to by id."""

from __future__ import annotations

from dataclasses import dataclass, field

WEBHOOK_TASK_QUEUE = "tempodesk-webhooks"
WEBHOOK_WORKFLOW = "WebhookWorkflow"
SIGNAL_WEBHOOK_WAKE = "wake"  # new deliveries wait in the database
ACT_WEBHOOK_PENDING = "webhook_pending"
ACT_SEND_WEBHOOK = "send_webhook"
ACT_WEBHOOK_FAILED = "webhook_failed"
#: The error type of an attempt that must not be repeated (the URL is refused, the
#: subscription is gone or disabled).
WEBHOOK_REFUSED = "WebhookRefused"


@dataclass
class WebhookRunInput:
    subscription_id: int


@dataclass
class WebhookPendingResult:
    """The subscription's oldest waiting deliveries, and how to retry them (the settings)."""

    delivery_ids: list[int] = field(default_factory=list)
    attempts: int = 5
    retry_seconds: float = 10.0
    max_retry_seconds: float = 600.0
    timeout_seconds: float = 10.0


@dataclass
class WebhookSendInput:
    delivery_id: int


@dataclass
class WebhookSendResult:
    status_code: int = 0


@dataclass
class WebhookFailedInput:
    delivery_id: int
    error: str = ""


@dataclass
class WebhookFailedResult:
    disabled: bool = False
