"""The edges refuse what cannot be stored or read: values longer than their column, NUL
characters and lone surrogates, forged list cursors; each answer names what is wrong."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tempodesk.core.models import Contact, PendingStart
from tests.helpers import Stack


def create(stack: Stack, **overrides: Any) -> Any:
    body: dict[str, Any] = {
        "subject": "Broken kettle",
        "body": "It stopped heating after a week.",
        "customer": {"email": "edge.case@example.com", "name": "Edge"},
    }
    body.update(overrides)
    return stack.client().post("/api/v1/tickets", json=body, headers=stack.api())


def pending_count(stack: Stack) -> int:
    with stack.sessions() as session:
        return session.scalar(select(func.count()).select_from(PendingStart)) or 0


def test_a_phone_longer_than_its_column_is_422_naming_the_field(any_stack: Stack) -> None:
    before = pending_count(any_stack)
    response = create(any_stack, customer={"email": "long.phone@example.com", "phone": "1" * 40})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["fields"] == {"phone": "At most 32 characters."}
    assert pending_count(any_stack) == before  # nothing accepted that could not be opened
    with any_stack.sessions() as session:
        assert session.scalar(select(Contact).where(Contact.phone == "1" * 40)) is None
