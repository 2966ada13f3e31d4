"""Which timeline events become which webhook events, and the body each delivery sends.

Called by the ticket projection in its transaction (``queue``): an event projected is a
delivery queued for every enabled subscription that wants it, once (a unique key per
subscription: the ticket, the timeline event's sequence number, the webhook event and the
message). The body is fixed then, so every attempt sends, and signs, the very same bytes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.contracts import MessageLink, ProjectionInput, TicketEventRecord, TicketSnapshot
from tempodesk.core.db import upsert
from tempodesk.core.models import Message, WebhookDelivery, WebhookSubscription

TICKET_CREATED = "ticket.created"
TICKET_STATE_CHANGED = "ticket.state_changed"
TICKET_ASSIGNED = "ticket.assigned"
MESSAGE_CREATED = "message.created"
NOTE_CREATED = "note.created"
TICKET_RATED = "ticket.rated"
PING = "ping"
#: What a subscription may ask for (``ping`` is the admin's test, sent whatever it asked).
EVENTS = (
    TICKET_CREATED,
    TICKET_STATE_CHANGED,
    TICKET_ASSIGNED,
    MESSAGE_CREATED,
    NOTE_CREATED,
    TICKET_RATED,
)


@dataclass
class Occurrence:
    """One webhook event a timeline event stands for."""

    event: str
    seq: int
    at: str
    message_id: int | None = None
    extra: dict[str, Any] | None = None


def occurrences(events: list[TicketEventRecord], links: list[MessageLink]) -> list[Occurrence]:
    """The webhook events of a projection's new timeline events (in order)."""
    by_id = {link.message_id: link for link in links}
    found: list[Occurrence] = []
    for e in events:
        if e.kind == "created":
            found.append(Occurrence(TICKET_CREATED, e.seq, e.at, e.message_id))
        if e.from_state and e.to_state and e.from_state != e.to_state:
            change = {"from_state": e.from_state, "to_state": e.to_state}
            found.append(Occurrence(TICKET_STATE_CHANGED, e.seq, e.at, extra=change))
        if e.kind == "action" and ("assignee" in e.data or "group" in e.data):
            found.append(Occurrence(TICKET_ASSIGNED, e.seq, e.at))
        if e.kind == "customer_message" and not e.data.get("auto_reply"):
            found.append(Occurrence(MESSAGE_CREATED, e.seq, e.at, e.message_id))
        if e.kind == "action":
            for message_id in e.data.get("message_ids", []):
                link = by_id.get(message_id)
                if link is not None and link.sender_role == "agent":
                    kind = NOTE_CREATED if link.internal else MESSAGE_CREATED
                    found.append(Occurrence(kind, e.seq, e.at, message_id))
        if e.kind == "rated":
            score = {"score": e.data.get("score")}
            found.append(Occurrence(TICKET_RATED, e.seq, e.at, extra={"rating": score}))
    return found


def queue(session: Session, input: ProjectionInput) -> set[int]:
    """Queue the deliveries of a projection's new events; the subscriptions that got any."""
    found = occurrences(input.events, input.messages)
    if not found:
        return set()
    subscriptions = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True))
    ).all()
    woken: set[int] = set()
    for occurrence in found:
        wanting = [s for s in subscriptions if occurrence.event in (s.events or [])]
        if not wanting:
            continue
        for subscription in wanting:
            public_id = str(uuid.uuid4())
            body = _body(session, input.snapshot, occurrence, public_id)
            key = f"{input.snapshot.number}:{occurrence.seq}:{occurrence.event}"
            if occurrence.message_id is not None:
                key += f":{occurrence.message_id}"
            add(
                session,
                subscription.id,
                occurrence.event,
                key,
                body,
                public_id,
                ticket_number=input.snapshot.number,
            )
            woken.add(subscription.id)
    return woken


def add(
    session: Session,
    subscription_id: int,
    event: str,
    dedupe_key: str,
    body: str,
    public_id: str,
    *,
    ticket_number: str | None = None,
) -> None:
    """A delivery, once per (subscription, key): a second projection of the same event
    keeps the first row, its delivery id and its body."""
    upsert(
        session,
        WebhookDelivery,
        {
            "public_id": public_id,
            "subscription_id": subscription_id,
            "event": event,
            "dedupe_key": dedupe_key,
            "ticket_number": ticket_number,
            "body": body,
            "status": "pending",
            "attempts": 0,
            "error": "",
            "response_excerpt": "",
        },
        on=["subscription_id", "dedupe_key"],
    )


def encode(payload: dict[str, Any]) -> str:
    """The body as sent: compact JSON, UTF-8 (non-ASCII kept)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _body(session: Session, ticket: TicketSnapshot, occurrence: Occurrence, public_id: str) -> str:
    payload: dict[str, Any] = {
        "event": occurrence.event,
        "delivery_id": public_id,
        "occurred_at": occurrence.at,
        "ticket": ticket_part(ticket),
    }
    if occurrence.message_id is not None:
        message = session.get(Message, occurrence.message_id)
        if message is not None and message.ticket_number == ticket.number:
            payload["message"] = {
                "id": message.id,
                "author": message.author,
                "internal": message.internal,
                "body": message.body,
            }
    payload.update(occurrence.extra or {})
    return encode(payload)


def ticket_part(ticket: TicketSnapshot) -> dict[str, Any]:
    """What a receiver learns about the ticket: no more personal data than its customer's
    address (no name, phone, fields or order)."""
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "state": ticket.state,
        "state_label": ticket.state_label,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "group": ticket.group,
        "customer_email": ticket.customer_email,
    }
