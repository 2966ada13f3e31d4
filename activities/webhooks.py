"""The webhook delivery activities (task queue ``tempodesk-webhooks``): what waits, one
attempt at sending a delivery, and a delivery's failure for good.

An attempt reads the delivery and its subscription, sends without holding a database
session, then writes the attempt's outcome to the delivery log. Sent twice (a worker killed
after the receiver answered), the body and its delivery id are the same: receivers dedupe.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from tempodesk.contracts import (
    ACT_SEND_WEBHOOK,
    ACT_WEBHOOK_FAILED,
    ACT_WEBHOOK_PENDING,
    WEBHOOK_REFUSED,
    WebhookFailedInput,
    WebhookFailedResult,
    WebhookPendingResult,
    WebhookRunInput,
    WebhookSendInput,
    WebhookSendResult,
)
from tempodesk.core.db import transaction
from tempodesk.core.models import WebhookDelivery, WebhookSubscription
from tempodesk.core.settings import Settings
from tempodesk.webhooks import subscriptions
from tempodesk.webhooks.sending import Answer, Refused, allowed_hosts, post, sign


class WebhookActivities:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings):
        self.sessions = session_factory
        self.settings = settings

    @activity.defn(name=ACT_WEBHOOK_PENDING)
    def pending(self, input: WebhookRunInput) -> WebhookPendingResult:
        """The subscription's oldest waiting deliveries, with the retry settings."""
        with self.sessions() as session:
            ids = subscriptions.pending(session, input.subscription_id)
        s = self.settings
        return WebhookPendingResult(
            delivery_ids=ids,
            attempts=max(s.webhook_attempts, 1),
            retry_seconds=s.webhook_retry_seconds,
            max_retry_seconds=s.webhook_max_retry_seconds,
            timeout_seconds=s.webhook_timeout_seconds,
        )

    @activity.defn(name=ACT_SEND_WEBHOOK)
    def send(self, input: WebhookSendInput) -> WebhookSendResult:
        """One attempt: 2xx delivers; anything else is retried by the workflow's policy;
        a refused URL is not retried."""
        with self.sessions() as session:
            delivery = session.get(WebhookDelivery, input.delivery_id)
            if delivery is None or delivery.status != "pending":
                status = delivery.response_status if delivery is not None else None
                return WebhookSendResult(status or 0)  # done already (or skipped)
            subscription = session.get(WebhookSubscription, delivery.subscription_id)
            if subscription is None:
                return WebhookSendResult(0)
            url, body = subscription.url, delivery.body.encode()
            secret = subscriptions.unsealed_secret(subscription, self.settings.session_secret())
            headers = {
                "X-Tempodesk-Signature": sign(body, secret),
                "X-Tempodesk-Event": delivery.event,
                "X-Tempodesk-Delivery": delivery.public_id,
            }
        try:
            answer = post(
                url,
                body,
                headers,
                allowlist=allowed_hosts(self.settings.webhook_allowed_hosts),
                timeout=self.settings.webhook_timeout_seconds,
            )
        except Refused as exc:
            self._attempted(input.delivery_id, None, f"refused: {exc}")
            raise ApplicationError(str(exc), type=WEBHOOK_REFUSED, non_retryable=True) from None
        except OSError as exc:  # unreachable, timed out, TLS, a broken answer
            error = f"{type(exc).__name__}: {exc}"
            self._attempted(input.delivery_id, None, error)
            raise ApplicationError(error, type="WebhookUnreachable") from None
        ok = 200 <= answer.status < 300
        self._attempted(input.delivery_id, answer, "" if ok else f"HTTP {answer.status}")
        if not ok:
            raise ApplicationError(f"HTTP {answer.status}", type="WebhookRejected")
        return WebhookSendResult(answer.status)

    def _attempted(self, delivery_id: int, answer: Answer | None, error: str) -> None:
        with transaction(self.sessions) as session:
            delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery is None or delivery.status != "pending":
                return
            subscriptions.attempted(
                delivery,
                status=answer.status if answer else None,
                error=error,
                excerpt=answer.excerpt if answer else "",
            )
            if answer is not None and not error:
                subscriptions.delivered(session, delivery)

    @activity.defn(name=ACT_WEBHOOK_FAILED)
    def failed(self, input: WebhookFailedInput) -> WebhookFailedResult:
        """Every attempt failed: the delivery is failed, and may disable its subscription."""
        with transaction(self.sessions) as session:
            delivery = session.get(WebhookDelivery, input.delivery_id, with_for_update=True)
            if delivery is None:
                return WebhookFailedResult(disabled=False)
            disabled = subscriptions.failed(
                session, delivery, input.error, self.settings.webhook_disable_after
            )
            return WebhookFailedResult(disabled=disabled)
