"""Webhook subscriptions (reference data admins write) and their deliveries' outcomes.

A secret is made here, sealed with the app's key (``core.vault``) and shown once; the worker
unseals it to sign. A delivery that fails for good counts against its subscription, and
``webhook_disable_after`` failures in a row disable it with the reason; a delivery that
passes resets the count.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tempodesk.core import audit, limits, vault
from tempodesk.core.db import iso
from tempodesk.core.models import WebhookDelivery, WebhookSubscription, utcnow
from tempodesk.webhooks import events as webhook_events
from tempodesk.webhooks.sending import Refused, check_url

SECRET_BYTES = 32
DELIVERY_LOG = 50  # deliveries shown per page of a subscription's log


class Invalid(ValueError):
    """A subscription's fields, field by field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Draft:
    """What an admin (or the API) asks a subscription to be."""

    url: str
    events: list[str] = field(default_factory=list)
    description: str = ""
    enabled: bool = True


def check(draft: Draft) -> dict[str, str]:
    """Field errors of a subscription (the URL's form only: its host is checked at send)."""
    errors = limits.check(
        {
            "url": (draft.url, WebhookSubscription.url),
            "description": (draft.description, WebhookSubscription.description),
        }
    )
    if "url" not in errors:
        try:
            check_url(draft.url)
        except Refused as exc:
            errors["url"] = str(exc)
    unknown = [e for e in draft.events if e not in webhook_events.EVENTS]
    if unknown:
        errors["events"] = "Unknown events: " + ", ".join(unknown[:5])
    elif not draft.events:
        errors["events"] = "Choose at least one event."
    return errors


def create(
    session: Session, draft: Draft, *, app_secret: str, actor: str
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (returned once, stored sealed)."""
    errors = check(draft)
    if errors:
        raise Invalid(errors)
    secret = secrets.token_hex(SECRET_BYTES)
    subscription = WebhookSubscription(
        url=draft.url.strip(),
        description=draft.description.strip(),
        events=_ordered(draft.events),
        secret_sealed=vault.seal(secret, app_secret),
        enabled=draft.enabled,
        disabled_reason="" if draft.enabled else f"Disabled by {actor}.",
        consecutive_failures=0,
        created_by=actor,
    )
    session.add(subscription)
    session.flush()
    _audit(session, "webhook.create", actor, subscription, None)
    return subscription, secret


def change(
    session: Session, subscription: WebhookSubscription, draft: Draft, *, actor: str
) -> None:
    """Change the URL, events, description or whether it is enabled."""
    errors = check(draft)
    if errors:
        raise Invalid(errors)
    before = audit.snapshot(subscription, AUDITED)
    subscription.url = draft.url.strip()
    subscription.description = draft.description.strip()
    subscription.events = _ordered(draft.events)
    set_enabled(session, subscription, draft.enabled, actor=actor)
    subscription.updated_at = utcnow()
    _audit(session, "webhook.update", actor, subscription, before)


def delete(session: Session, subscription: WebhookSubscription, *, actor: str) -> None:
    """Delete a subscription (and its delivery log), audited."""
    audit.record(
        session,
        "webhook.delete",
        actor=actor,
        object_type="webhook",
        object_id=subscription.id,
        before=audit.snapshot(subscription, AUDITED),
    )
    session.delete(subscription)


#: What the audit log keeps of a subscription (never its secret).
AUDITED = ("url", "description", "events", "enabled")


def _audit(
    session: Session,
    action: str,
    actor: str,
    subscription: WebhookSubscription,
    before: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        action,
        actor=actor,
        object_type="webhook",
        object_id=subscription.id,
        before=before,
        after=audit.snapshot(subscription, AUDITED),
    )


def set_enabled(
    session: Session, subscription: WebhookSubscription, enabled: bool, *, actor: str
) -> None:
    """Enable (the failure count starts over) or disable (what waits is skipped)."""
    if enabled == subscription.enabled:
        return
    subscription.enabled = enabled
    subscription.updated_at = utcnow()
    if enabled:
        subscription.disabled_reason = ""
        subscription.consecutive_failures = 0
    else:
        _disable(session, subscription, f"Disabled by {actor}.")


def _disable(session: Session, subscription: WebhookSubscription, reason: str) -> None:
    subscription.enabled = False
    subscription.disabled_reason = limits.fit(reason, WebhookSubscription.disabled_reason)
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .where(WebhookDelivery.status == "pending")
        .values(status="skipped", error="The subscription was disabled.", finished_at=utcnow())
    )


def _ordered(chosen: list[str]) -> list[str]:
    return [e for e in webhook_events.EVENTS if e in chosen]


def unsealed_secret(subscription: WebhookSubscription, app_secret: str) -> str:
    return vault.unseal(subscription.secret_sealed, app_secret)


def queue_ping(session: Session, subscription: WebhookSubscription, actor: str) -> WebhookDelivery:
    """The admin's "send a test ping": a delivery of event ``ping``, sent like any other."""
    public_id = str(uuid.uuid4())
    body = webhook_events.encode(
        {
            "event": webhook_events.PING,
            "delivery_id": public_id,
            "occurred_at": utcnow().isoformat(),
            "subscription": subscription.id,
            "sent_by": actor,
        }
    )
    webhook_events.add(session, subscription.id, webhook_events.PING, public_id, body, public_id)
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.public_id == public_id))
    assert delivery is not None
    return delivery


# What the delivery workflow's activities record


def pending(session: Session, subscription_id: int, limit: int = 20) -> list[int]:
    """The oldest deliveries waiting for an enabled subscription (none when disabled)."""
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or not subscription.enabled:
        return []
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.subscription_id == subscription_id)
            .where(WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


def attempted(
    delivery: WebhookDelivery, *, status: int | None, error: str, excerpt: str = ""
) -> None:
    """One attempt's outcome on the delivery's row (the log admins read)."""
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    delivery.response_status = status
    delivery.error = limits.fit(error, WebhookDelivery.error)
    delivery.response_excerpt = limits.fit(excerpt, WebhookDelivery.response_excerpt)


def delivered(session: Session, delivery: WebhookDelivery) -> None:
    delivery.status = "delivered"
    delivery.finished_at = utcnow()
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is not None:
        subscription.consecutive_failures = 0


def failed(session: Session, delivery: WebhookDelivery, error: str, disable_after: int) -> bool:
    """The delivery failed for good; True if that disabled its subscription."""
    if delivery.status != "pending":
        return False
    delivery.status = "failed"
    delivery.finished_at = utcnow()
    if error and not delivery.error:
        delivery.error = limits.fit(error, WebhookDelivery.error)
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or not subscription.enabled:
        return False
    subscription.consecutive_failures += 1
    if subscription.consecutive_failures < max(disable_after, 1):
        return False
    _disable(
        session,
        subscription,
        f"Disabled automatically after {subscription.consecutive_failures} failed deliveries "
        f"in a row; the last: {delivery.error or error}",
    )
    return True


# Reading


def subscription_dict(subscription: WebhookSubscription) -> dict[str, Any]:
    """A subscription as the API shows it (never its secret)."""
    return {
        "id": subscription.id,
        "url": subscription.url,
        "description": subscription.description,
        "events": list(subscription.events or []),
        "enabled": subscription.enabled,
        "disabled_reason": subscription.disabled_reason,
        "consecutive_failures": subscription.consecutive_failures,
        "created_by": subscription.created_by,
        "created_at": iso(subscription.created_at),
        "updated_at": iso(subscription.updated_at),
    }


def delivery_dict(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.public_id,
        "event": delivery.event,
        "ticket": delivery.ticket_number,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "response_status": delivery.response_status,
        "error": delivery.error,
        "response_excerpt": delivery.response_excerpt,
        "created_at": iso(delivery.created_at),
        "last_attempt_at": iso(delivery.last_attempt_at),
        "finished_at": iso(delivery.finished_at),
    }


def all_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def deliveries(
    session: Session, subscription_id: int, limit: int = DELIVERY_LOG
) -> list[WebhookDelivery]:
    """The subscription's latest deliveries, newest first."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def waiting_subscriptions(session: Session) -> list[int]:
    """Enabled subscriptions with deliveries waiting (the worker's safety net wakes them)."""
    return list(
        session.scalars(
            select(WebhookDelivery.subscription_id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookSubscription.enabled.is_(True))
            .where(WebhookDelivery.status == "pending")
            .distinct()
        )
    )
