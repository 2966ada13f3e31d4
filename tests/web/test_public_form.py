"""The public web form at /support/new."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tempodesk.core.db import transaction
from tempodesk.core.models import Message, Order, Ticket, TicketEvent
from tests.helpers import Stack, csrf_token


def form_fields(html: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_token(html),
        "submission": re.search(r'name="submission" type="hidden" value="([^"]+)"', html).group(1),  # type: ignore[union-attr]
    }


def submit(stack: Stack, **fields: str):  # type: ignore[no-untyped-def]
    client = stack.client()
    page = client.get("/support/new").get_data(as_text=True)
    data = {
        **form_fields(page),
        "name": "Karel Čapek",
        "email": "karel@example.org",
        "subject": "Where is my parcel?",
        "message": "It was due on Monday.",
        "order_number": "",
    }
    data.update(fields)
    return client, client.post("/support/new", data=data)


def test_form_files_a_ticket_and_shows_its_number(any_stack: Stack) -> None:
    client, response = submit(any_stack)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    number = re.search(r'class="ticket-number">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    with any_stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.channel == "web" and ticket.state == "new"
        assert ticket.customer_email == "karel@example.org"


def test_order_number_on_the_form_links_the_customers_order(stack: Stack) -> None:
    client, response = submit(
        stack, email="jana.novakova@example.com", order_number="ORD-1001", subject="Kettle order"
    )
    number = re.search(
        r'class="ticket-number">([^<]+)<',
        client.get(response.headers["Location"]).get_data(as_text=True),
    ).group(1)  # type: ignore[union-attr]
    with stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.order is not None and ticket.order.number == "ORD-1001"


def test_post_without_csrf_token_is_refused_and_files_nothing(stack: Stack) -> None:
    with stack.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Message))
    response = stack.client().post(
        "/support/new",
        data={"email": "x@example.org", "subject": "forged", "message": "from another site"},
    )
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    with stack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == before


def test_invalid_input_is_explained_next_to_the_fields(stack: Stack) -> None:
    _, response = submit(stack, email="karel at example", subject="", message="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for error in ("Enter a valid email address.", "Enter a subject.", "Enter a message."):
        assert error in html


def test_resubmitting_the_same_form_files_one_ticket(stack: Stack) -> None:
    client = stack.client()
    page = client.get("/support/new").get_data(as_text=True)
    data = {
        **form_fields(page),
        "email": "double@example.org",
        "subject": "Double click",
        "message": "Clicked twice.",
    }
    first = client.post("/support/new", data=data)
    second = client.post("/support/new", data=data)
    assert first.status_code == second.status_code == 302
    with stack.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.customer_email == "double@example.org")
        )
    assert count == 1


def test_hostile_input_is_stored_as_text_and_shown_escaped(stack: Stack) -> None:
    payload = "<script>alert(1)</script>{{ 7*7 }}"
    client, response = submit(stack, subject=payload, message=payload, name=payload)
    assert response.status_code == 302
    number = re.search(
        r'class="ticket-number">([^<]+)<',
        client.get(response.headers["Location"]).get_data(as_text=True),
    ).group(1)  # type: ignore[union-attr]
    html = stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in html
    assert "49" not in html.split("Timeline")[1].split("Customer")[0]


def tickets_from(stack: Stack, email: str) -> int:
    with stack.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.customer_email == email)
        )


def test_a_submission_key_replayed_from_another_session_never_shows_its_ticket(
    stack: Stack,
) -> None:
    first = stack.client()
    page = first.get("/support/new").get_data(as_text=True)
    stolen = form_fields(page)["submission"]
    sent = first.post(
        "/support/new",
        data={
            **form_fields(page),
            "email": "owner@example.org",
            "subject": "My private problem",
            "message": "Details.",
        },
    )
    number = re.search(
        r'class="ticket-number">([^<]+)<',
        first.get(sent.headers["Location"]).get_data(as_text=True),
    ).group(1)  # type: ignore[union-attr]
    other = stack.client()
    other_page = other.get("/support/new").get_data(as_text=True)
    replay = other.post(
        "/support/new",
        data={
            **form_fields(other_page),
            "submission": stolen,
            "email": "snoop@example.org",
            "subject": "Anything",
            "message": "Show me a number.",
        },
    )
    assert replay.status_code == 422
    assert number not in replay.get_data(as_text=True)
    assert number not in other.get("/support/submitted").get_data(as_text=True)
    assert tickets_from(stack, "snoop@example.org") == 0


def test_a_submission_key_the_client_made_up_is_refused(stack: Stack) -> None:
    _, response = submit(
        stack, submission="00000000-0000-0000-0000-000000000000", email="madeup@example.org"
    )
    assert response.status_code == 422
    assert "send it again" in response.get_data(as_text=True)
    assert tickets_from(stack, "madeup@example.org") == 0


def test_a_filled_honeypot_files_nothing(stack: Stack) -> None:
    _, response = submit(stack, website="http://cheap.example", email="bot@example.org")
    assert response.status_code == 422
    assert tickets_from(stack, "bot@example.org") == 0


def test_a_form_sent_faster_than_a_person_types_is_refused_until_time_has_passed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "public_form_min_seconds", 1.5)
    client, response = submit(stack, email="hasty@example.org")
    assert response.status_code == 422
    assert tickets_from(stack, "hasty@example.org") == 0
    time.sleep(1.6)
    page = response.get_data(as_text=True)  # the same form, as the customer sees it again
    again = client.post(
        "/support/new",
        data={
            **form_fields(page),
            "email": "hasty@example.org",
            "subject": "Quick",
            "message": "Typed fast.",
        },
    )
    assert again.status_code == 302
    assert tickets_from(stack, "hasty@example.org") == 1


def test_form_submissions_per_address_are_limited(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "public_form_rate_limit", "2/minute")
    client = stack.client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    statuses = []
    for n in range(3):
        page = client.get("/support/new").get_data(as_text=True)
        response = client.post(
            "/support/new",
            data={
                **form_fields(page),
                "email": "flood@example.org",
                "subject": f"Flood {n}",
                "message": "Again.",
            },
        )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert tickets_from(stack, "flood@example.org") == 2


def test_the_same_form_sent_again_with_other_content_files_nothing_under_the_first_number(
    stack: Stack,
) -> None:
    client = stack.client()
    page = client.get("/support/new").get_data(as_text=True)
    fields = form_fields(page)
    base = {"email": "backbutton@example.org", "subject": "First", "message": "One."}
    first = client.post("/support/new", data={**fields, **base})
    assert first.status_code == 302
    changed = client.post("/support/new", data={**fields, **base, "subject": "Second"})
    assert changed.status_code == 422
    html = changed.get_data(as_text=True)
    assert "already sent" in html
    # A fresh key comes with the page: sending it again files the second request.
    again = client.post("/support/new", data={**form_fields(html), **base, "subject": "Second"})
    assert again.status_code == 302
    assert tickets_from(stack, "backbutton@example.org") == 2


def _ticket_of(stack: Stack, client, response) -> Ticket:  # type: ignore[no-untyped-def]
    number = re.search(
        r'class="ticket-number">([^<]+)<',
        client.get(response.headers["Location"]).get_data(as_text=True),
    ).group(1)  # type: ignore[union-attr]
    with stack.sessions() as session:
        ticket = session.scalar(
            select(Ticket).where(Ticket.number == number).options(selectinload(Ticket.order))
        )
        assert ticket is not None
        return ticket


def _created_note(stack: Stack, number: str) -> str:
    with stack.sessions() as session:
        event = session.scalar(
            select(TicketEvent)
            .where(TicketEvent.ticket_number == number)
            .where(TicketEvent.kind == "created")
        )
        assert event is not None
        return str(event.data.get("order_note", ""))


def test_the_form_links_an_order_only_when_its_customer_email_matches(stack: Stack) -> None:
    stray = f"ORD-STRAY-{uuid.uuid4().hex[:6]}"
    with transaction(stack.sessions) as session:
        session.add(Order(number=stray, contact_id=None, total="999 CZK"))
    client, response = submit(stack, email="mallory@example.org", order_number=stray)
    ticket = _ticket_of(stack, client, response)
    assert ticket.order is None  # an order with no customer is nobody's to claim
    assert "not linked" in _created_note(stack, ticket.number)
    client, response = submit(stack, email="jana.novakova@example.com", order_number="ORD-1001")
    ticket = _ticket_of(stack, client, response)
    assert ticket.order is not None and ticket.order.number == "ORD-1001"
    note = _created_note(stack, ticket.number)
    assert "ORD-1001" in note and "email matches" in note
    page = stack.login("agent1").get(f"/desk/tickets/{ticket.number}").get_data(as_text=True)
    assert "email matches" in page
