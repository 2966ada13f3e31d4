"""The portal's "my orders": the signed-in contact's orders, read-only, with their requests."""

from __future__ import annotations

import uuid

from babel.numbers import format_currency

from tests.helpers import Stack
from tests.web.portal_helpers import portal_client, unique_email


def place(stack: Stack, email: str, total: str = "2 580 CZK") -> str:
    number = f"ORD-P{uuid.uuid4().hex[:8]}"
    placed = stack.client().post(
        "/api/v1/orders",
        json={
            "number": number,
            "customer": {"email": email, "name": "Olga"},
            "placed_at": "2026-11-02T10:15:00Z",
            "status": "paid",
            "total": total,
            "items": [{"sku": "KETTLE-2", "name": "Electric kettle", "qty": 2}],
        },
        headers=stack.api(),
    )
    assert placed.status_code in (200, 201), placed.get_json()
    return number


def ask_about(stack: Stack, email: str, order: str, subject: str) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": subject,
            "body": "Where is it?",
            "customer": {"email": email},
            "order_number": order,
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def test_my_orders_shows_only_my_orders_with_my_requests_linked(stack: Stack) -> None:
    mine, theirs = unique_email(), unique_email()
    my_order = place(stack, mine, total="1 290 CZK")
    their_order = place(stack, theirs, total="99 999 CZK")
    my_request = ask_about(stack, mine, my_order, "Where is my kettle")
    # Somebody else writing about my order: their request is not mine to see.
    their_request = ask_about(stack, theirs, my_order, "Somebody else asks")
    client = portal_client(stack, mine)
    page = client.get("/portal/orders").get_data(as_text=True)
    total = format_currency(1290, "CZK", locale="en")  # the total in the page's locale
    assert my_order in page and total in page and "Electric kettle" in page
    assert f'href="/portal/tickets/{my_request}"' in page
    assert their_order not in page and format_currency(99999, "CZK", locale="en") not in page
    assert their_request not in page and "Somebody else asks" not in page
    assert "<form" not in page.split('class="card"', 1)[1]  # read-only
    assert client.post("/portal/orders").status_code in (400, 405)


def test_my_orders_needs_sign_in(stack: Stack) -> None:
    response = stack.client().get("/portal/orders")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]
