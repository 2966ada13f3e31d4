"""API idempotency keys: one namespace per endpoint, and a key answers only its own request."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from tempodesk.core.models import Message, Ticket
from tests.helpers import Stack
from tests.web.test_api import create


def add_message(stack: Stack, number: str, **body: Any) -> Any:
    return stack.client().post(f"/api/v1/tickets/{number}/messages", json=body, headers=stack.api())


def test_a_key_reused_with_another_ticket_body_is_422_and_creates_nothing(stack: Stack) -> None:
    key = f"fp-{uuid.uuid4()}"
    first = create(stack, idempotency_key=key, subject="First request")
    assert first.status_code == 201
    other = create(stack, idempotency_key=key, subject="A different request")
    assert other.status_code == 422
    error = other.get_json()["error"]
    assert error["code"] == "idempotency_key_reused" and "idempotency_key" in error["fields"]
    assert first.get_json()["number"] not in other.get_data(as_text=True)
    with stack.sessions() as session:
        assert not session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.subject == "A different request")
        )
    again = create(stack, idempotency_key=key, subject="First request")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["number"] == first.get_json()["number"]


def test_ticket_and_message_keys_do_not_meet(stack: Stack) -> None:
    key = f"shared-{uuid.uuid4()}"
    number = create(stack, idempotency_key=key).get_json()["number"]
    added = add_message(stack, number, body="A follow-up with the same key", idempotency_key=key)
    assert added.status_code == 202
    with stack.sessions() as session:
        bodies = list(session.scalars(select(Message.body).where(Message.ticket_number == number)))
    assert "A follow-up with the same key" in bodies


def test_a_message_key_reused_with_another_body_is_422(stack: Stack) -> None:
    number = create(stack).get_json()["number"]
    key = f"msg-{uuid.uuid4()}"
    first = add_message(stack, number, body="First words", idempotency_key=key)
    assert first.status_code == 202
    replay = add_message(stack, number, body="First words", idempotency_key=key)
    assert replay.status_code == 202
    assert replay.get_json()["message_id"] == first.get_json()["message_id"]
    other = add_message(stack, number, body="Other words", idempotency_key=key)
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"


def test_an_overlong_message_key_is_422(stack: Stack) -> None:
    number = create(stack).get_json()["number"]
    response = add_message(stack, number, body="Hello", idempotency_key="k" * 300)
    assert response.status_code == 422
    assert "idempotency_key" in response.get_json()["error"]["fields"]
