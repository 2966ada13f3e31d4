"""The public web form at /support/new."""

from __future__ import annotations

import re
import uuid

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
