"""Outbound webhooks end to end: the API, the projection queueing deliveries, the delivery
workflow and its activities on their own queue, against a real HTTP server on 127.0.0.1
(allowed through TEMPODESK_WEBHOOK_ALLOWED_HOSTS in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.client import Client

from tempodesk.app.worker import wake_waiting_webhooks
from tempodesk.core.db import transaction
from tempodesk.core.models import WebhookSubscription
from tempodesk.core.temporal import AsyncFacade
from tempodesk.webhooks import subscriptions
from tests.helpers import Stack
from tests.web.test_api import create
from tests.webhook_receiver import Received, Receiver, eventually


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def hooks(stack: Stack) -> Iterator[list[int]]:
    """Subscriptions a test made, deleted after it (they would get every later ticket's
    events)."""
    made: list[int] = []
    yield made
    for subscription_id in made:
        stack.client().delete(f"/api/v1/webhooks/{subscription_id}", headers=stack.api())


def subscribe(stack: Stack, hooks: list[int], url: str, events: list[str]) -> dict[str, Any]:
    response = stack.client().post(
        "/api/v1/webhooks", json={"url": url, "events": events}, headers=stack.api()
    )
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    hooks.append(created["id"])
    return created


def for_ticket(number: str, event: str) -> Any:
    def check(r: Received) -> bool:
        body = json.loads(r.body)
        return bool(body.get("ticket", {}).get("number") == number and body["event"] == event)

    return check


def deliveries(stack: Stack, subscription_id: int) -> list[dict[str, Any]]:
    response = stack.client().get(
        f"/api/v1/webhooks/{subscription_id}/deliveries", headers=stack.api()
    )
    assert response.status_code == 200
    found: list[dict[str, Any]] = response.get_json()["deliveries"]
    return found


def webhook(stack: Stack, subscription_id: int) -> dict[str, Any]:
    found: dict[str, Any] = (
        stack.client().get(f"/api/v1/webhooks/{subscription_id}", headers=stack.api()).get_json()
    )
    return found


def test_a_new_ticket_and_a_reply_are_delivered_signed(
    stack: Stack, receiver: Receiver, hooks: list[int], sink: Any
) -> None:
    created = subscribe(
        stack, hooks, receiver.url(), ["ticket.created", "message.created", "ticket.state_changed"]
    )
    number = create(stack).get_json()["number"]
    eventually(lambda: bool(receiver.matching(for_ticket(number, "ticket.created"))))
    [got] = receiver.matching(for_ticket(number, "ticket.created"))
    expected = hmac.new(created["secret"].encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Tempodesk-Signature"] == f"sha256={expected}"
    assert got.headers["X-Tempodesk-Event"] == "ticket.created"
    body = json.loads(got.body)
    assert got.headers["X-Tempodesk-Delivery"] == body["delivery_id"]
    assert body["ticket"]["customer_email"] == "jana.novakova@example.com"
    assert "customer_name" not in body["ticket"]  # no more personal data than needed
    assert body["message"]["body"] == "It stopped heating after a week."

    stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Please send a photo."}},
        headers=stack.api(),
    )
    eventually(lambda: bool(receiver.matching(for_ticket(number, "message.created"))))
    eventually(lambda: bool(receiver.matching(for_ticket(number, "ticket.state_changed"))))
    [message] = receiver.matching(for_ticket(number, "message.created"))
    assert json.loads(message.body)["message"]["body"] == "Please send a photo."
    [moved] = receiver.matching(for_ticket(number, "ticket.state_changed"))
    change = json.loads(moved.body)
    assert change["to_state"] == change["ticket"]["state"] == "waiting_for_customer"


def test_an_internal_note_is_sent_only_to_those_who_asked_for_notes(
    stack: Stack, receiver: Receiver, hooks: list[int]
) -> None:
    subscribe(stack, hooks, receiver.url("/messages"), ["message.created"])
    subscribe(stack, hooks, receiver.url("/notes"), ["note.created"])
    number = create(stack).get_json()["number"]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/comment",
        json={"fields": {"body": "Customer is a VIP."}},
        headers=stack.api(),
    )
    assert response.status_code == 200, response.get_json()
    eventually(lambda: bool(receiver.matching(for_ticket(number, "note.created"))))
    [note] = receiver.matching(for_ticket(number, "note.created"))
    assert note.path == "/notes"
    assert json.loads(note.body)["message"]["body"] == "Customer is a VIP."
    assert not receiver.matching(lambda r: r.path == "/messages" and b"VIP" in r.body)


def test_a_failing_receiver_is_retried_with_the_same_delivery(
    stack: Stack, receiver: Receiver, hooks: list[int]
) -> None:
    created = subscribe(stack, hooks, receiver.url(), ["ticket.created"])
    receiver.statuses = [500, 503]
    ping = stack.client().post(f"/api/v1/webhooks/{created['id']}/ping", headers=stack.api())
    assert ping.status_code == 202
    delivery_id = ping.get_json()["id"]
    eventually(lambda: deliveries(stack, created["id"])[0]["status"] == "delivered")
    [logged] = deliveries(stack, created["id"])
    assert logged["attempts"] == 3 and logged["response_status"] == 200
    attempts = receiver.matching(lambda r: r.headers.get("X-Tempodesk-Delivery") == delivery_id)
    assert len(attempts) == 3
    assert len({a.body for a in attempts}) == 1  # the very same bytes, the same signature
    assert len({a.headers["X-Tempodesk-Signature"] for a in attempts}) == 1


def test_repeated_failure_disables_the_subscription_and_says_why(
    stack: Stack, receiver: Receiver, hooks: list[int]
) -> None:
    created = subscribe(stack, hooks, receiver.url(), ["ticket.created"])
    receiver.always = 500
    for _ in range(3):  # webhook_disable_after is 3 in the tests
        url = f"/api/v1/webhooks/{created['id']}/ping"
        assert stack.client().post(url, headers=stack.api()).status_code == 202
    eventually(lambda: not webhook(stack, created["id"])["enabled"])
    disabled = webhook(stack, created["id"])
    assert "3 failed deliveries in a row" in disabled["disabled_reason"]
    assert "HTTP 500" in disabled["disabled_reason"]
    assert [d["status"] for d in deliveries(stack, created["id"])] == ["failed"] * 3
    assert all(d["response_status"] == 500 for d in deliveries(stack, created["id"]))
    refused = stack.client().post(f"/api/v1/webhooks/{created['id']}/ping", headers=stack.api())
    assert refused.status_code == 409
    enabled = stack.client().patch(
        f"/api/v1/webhooks/{created['id']}", json={"enabled": True}, headers=stack.api()
    )
    assert enabled.get_json()["enabled"] and enabled.get_json()["consecutive_failures"] == 0


def test_a_private_host_not_allowed_is_refused_at_send_time(
    stack: Stack, receiver: Receiver, hooks: list[int]
) -> None:
    # localhost resolves to loopback and is not in TEMPODESK_WEBHOOK_ALLOWED_HOSTS.
    created = subscribe(stack, hooks, receiver.url(host="localhost"), ["ticket.created"])
    stack.client().post(f"/api/v1/webhooks/{created['id']}/ping", headers=stack.api())
    eventually(lambda: deliveries(stack, created["id"])[0]["status"] == "failed")
    [logged] = deliveries(stack, created["id"])
    assert logged["attempts"] == 1  # refused, not retried
    assert "not a public address" in logged["error"]
    assert receiver.received == []


def test_webhooks_are_for_admins_and_checked_field_by_field(stack: Stack, hooks: list[int]) -> None:
    agent = stack.api("agent1")
    assert stack.client().get("/api/v1/webhooks", headers=agent).status_code == 403
    bad = stack.client().post(
        "/api/v1/webhooks",
        json={"url": "file:///etc/passwd", "events": ["ticket.exploded"]},
        headers=stack.api(),
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"url", "events"}
    created = subscribe(stack, hooks, "https://hooks.example.com/in", ["ticket.rated"])
    listed = stack.client().get("/api/v1/webhooks", headers=stack.api()).get_json()
    assert any(h["id"] == created["id"] and "secret" not in h for h in listed)
    put = stack.client().put(
        f"/api/v1/webhooks/{created['id']}",
        json={"url": "https://hooks.example.com/v2", "events": ["ticket.assigned"]},
        headers=stack.api(),
    )
    assert put.get_json()["events"] == ["ticket.assigned"]
    gone = stack.client().delete(f"/api/v1/webhooks/{created['id']}", headers=stack.api())
    assert gone.status_code == 204
    assert (
        stack.client().get(f"/api/v1/webhooks/{created['id']}", headers=stack.api()).status_code
        == 404
    )


def test_an_assignment_is_delivered_with_the_new_assignee(
    stack: Stack, receiver: Receiver, hooks: list[int], sink: Any
) -> None:
    subscribe(stack, hooks, receiver.url(), ["ticket.assigned"])
    number = create(stack).get_json()["number"]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/assign",
        json={"fields": {"agent": "agent2"}},
        headers=stack.api(),
    )
    assert response.status_code == 200, response.get_json()
    eventually(lambda: bool(receiver.matching(for_ticket(number, "ticket.assigned"))))
    [got] = receiver.matching(for_ticket(number, "ticket.assigned"))
    assert json.loads(got.body)["ticket"]["assignee"] == "agent2"


def test_a_delivery_whose_wake_was_lost_is_sent_by_the_workers_loop(
    stack: Stack, receiver: Receiver, hooks: list[int]
) -> None:
    """Deliveries are rows: one queued with no wake at all (a worker that died after the
    projection's commit, Temporal away) is found by the worker's loop."""
    created = subscribe(stack, hooks, receiver.url(), ["ticket.created"])
    with transaction(stack.sessions) as session:
        hook = session.get(WebhookSubscription, created["id"])
        assert hook is not None
        queued = subscriptions.queue_ping(session, hook, "tests").public_id

    async def loop_once() -> None:
        client = await Client.connect(
            stack.settings.temporal_target, namespace=stack.settings.temporal_namespace
        )
        await wake_waiting_webhooks(stack.sessions, AsyncFacade(client))

    asyncio.run(loop_once())
    eventually(lambda: bool(receiver.matching(lambda r: queued.encode() in r.body)))
    assert deliveries(stack, created["id"])[0]["id"] == queued
