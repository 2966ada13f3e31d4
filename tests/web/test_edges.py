"""The edges refuse what cannot be stored or read: values longer than their column, NUL
characters and lone surrogates, forged list cursors; each answer names what is wrong."""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from tempodesk.core.db import transaction
from tempodesk.core.limits import ColumnTooLong
from tempodesk.core.models import Contact, Group, PendingStart
from tests.helpers import Stack, csrf_token


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


def test_a_form_value_longer_than_its_column_is_422_naming_the_field(stack: Stack) -> None:
    agent = stack.login("agent1")
    token = csrf_token(agent.get("/desk/contacts/new").get_data(as_text=True))
    response = agent.post(
        "/desk/contacts/new",
        data={"csrf_token": token, "name": "Long Phone", "phone": "1" * 40, "language": "en"},
    )
    assert response.status_code == 422
    assert "At most 32 characters." in response.get_data(as_text=True)
    with stack.sessions() as session:
        assert session.scalar(select(Contact).where(Contact.name == "Long Phone")) is None


def test_a_session_refuses_to_store_a_string_longer_than_its_column(any_stack: Stack) -> None:
    name = f"Edge{uuid.uuid4().hex[:8]}"
    with pytest.raises(ColumnTooLong) as refused, transaction(any_stack.sessions) as session:
        session.add(Group(name=name, description="d" * 256))
    assert (refused.value.field, refused.value.limit) == ("description", 255)
    with any_stack.sessions() as session:
        assert session.scalar(select(Group).where(Group.name == name)) is None


def test_nul_and_lone_surrogates_in_a_json_body_are_422_naming_the_field(stack: Stack) -> None:
    before = pending_count(stack)
    response = create(stack, subject="Broken\x00kettle")
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["error"]["fields"]) == {"subject"}
    raw = (
        '{"subject": "Kettle", "body": "Hot", '
        '"customer": {"email": "s@example.com", "name": "Jana \\ud800"}}'
    )
    response = stack.client().post(
        "/api/v1/tickets",
        data=raw,
        headers={**stack.api(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["error"]["fields"]) == {"customer.name"}
    assert pending_count(stack) == before


def test_nul_in_a_form_post_is_422_naming_the_field(stack: Stack) -> None:
    client = stack.client()
    page = client.get("/support/new").get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)
    assert submission is not None
    before = pending_count(stack)
    response = client.post(
        "/support/new",
        data={
            "csrf_token": csrf_token(page),
            "submission": submission.group(1),
            "name": "Karel",
            "email": "karel@example.org",
            "subject": "Where is my parcel?",
            "message": "It was due\x00 on Monday.",
        },
    )
    assert response.status_code == 422
    assert "Some fields are not filled in correctly." in response.get_data(as_text=True)
    assert pending_count(stack) == before
    search = stack.login("agent1").get("/desk/?q=a%00b")
    assert search.status_code == 422


def _cursor(data: Any) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED = [
    ("newest", _cursor({"s": "newest", "k": None, "id": 10**20})),
    ("updated", _cursor({"s": "updated", "k": 5, "id": 1})),
    ("updated", _cursor({"s": "updated", "k": "yesterday", "id": 1})),
    ("priority", _cursor({"s": "priority", "k": "high", "id": 1})),
    ("priority", _cursor({"s": "priority", "k": None, "id": 1})),
    ("newest", _cursor({"s": "newest", "id": True})),
    ("newest", "%C3%A9t%C3%A9"),
    ("newest", _cursor([]) + "x" * 300),
]


def test_a_malformed_cursor_is_400_in_the_api_and_the_desk(stack: Stack) -> None:
    desk = stack.login("agent1")
    for sort, cursor in FORGED:
        api = stack.client().get(
            f"/api/v1/tickets?sort={sort}&cursor={cursor}", headers=stack.api()
        )
        assert api.status_code == 400, (sort, cursor, api.get_json())
        assert api.get_json()["error"]["code"] == "bad_request"
        page = desk.get(f"/desk/?view=all&sort={sort}&cursor={cursor}")
        assert page.status_code == 400, (sort, cursor)


def test_an_order_whose_customer_phone_overflows_the_contact_is_422(any_stack: Stack) -> None:
    response = any_stack.client().post(
        "/api/v1/orders",
        json={"number": f"ORD-{uuid.uuid4().hex[:8]}", "customer": {"phone": "2" * 40}},
        headers=any_stack.api(),
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"] == {"customer.phone": "At most 32 characters."}


def test_ids_and_page_numbers_no_column_can_hold_are_not_errors(stack: Stack) -> None:
    agent = stack.login("agent1")
    huge = "9" * 25
    assert agent.get(f"/desk/contacts/{huge}").status_code == 404
    assert agent.get(f"/desk/contacts/{2**31}").status_code == 404
    assert agent.get("/desk/contacts?page=%C2%B2").status_code == 200  # "²".isdigit()
    assert agent.get(f"/desk/contacts?page={huge}").status_code == 200
    assert agent.get(f"/desk/tickets/new?contact={huge}").status_code == 200


@pytest.mark.parametrize("priority", ["2147483648", "²", "-1", "9" * 30])
def test_a_priority_filter_no_ticket_can_have_matches_nothing(stack: Stack, priority: str) -> None:
    """Found by the API fuzz: an integer over PostgreSQL's range was a 500."""
    answer = stack.client().get(f"/api/v1/tickets?priority={priority}", headers=stack.api())
    assert answer.status_code == 200
    assert answer.get_json()["items"] == []
    desk = stack.login("agent1").get(f"/desk/?priority={priority}")
    assert desk.status_code in (200, 400)
