"""Orders from the shop: the API upsert and the CSV upload (all rows or none)."""

from __future__ import annotations

import io
import uuid
from typing import Any

from sqlalchemy import select

from tempodesk.core.models import Contact, Order
from tests.helpers import Stack, csrf_token


def order_payload(number: str, email: str, **extra: Any) -> dict[str, Any]:
    return {
        "number": number,
        "customer": {"email": email, "name": "Olga Objednávka", "phone": "+420 603 123 456"},
        "placed_at": "2026-11-02T10:15:00Z",
        "status": "paid",
        "total": "2 580 CZK",
        "items": [
            {"sku": "KETTLE-2", "name": "Electric kettle", "qty": 2, "price": "1 290 CZK"},
        ],
        **extra,
    }


def test_orders_api_upserts_by_number_and_finds_or_creates_the_customer(stack: Stack) -> None:
    number, email = f"ORD-A{uuid.uuid4().hex[:8]}", f"olga-{uuid.uuid4().hex[:6]}@example.com"
    client = stack.client()
    created = client.post("/api/v1/orders", json=order_payload(number, email), headers=stack.api())
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["number"] == number and body["status"] == "paid"
    assert body["customer"]["email"] == email and body["customer"]["phone"] == "+420603123456"
    assert body["placed_at"].startswith("2026-11-02T10:15:00")
    assert body["items"] == [
        {"sku": "KETTLE-2", "name": "Electric kettle", "qty": 2, "price": "1 290 CZK"}
    ]

    updated = client.post(
        "/api/v1/orders",
        json=order_payload(number, email.upper(), status="shipped", items=[{"name": "Lid"}]),
        headers=stack.api(),
    )
    assert updated.status_code == 200
    assert updated.get_json()["status"] == "shipped"
    assert updated.get_json()["customer"]["id"] == body["customer"]["id"]  # the same contact
    fetched = client.get(f"/api/v1/orders/{number}", headers=stack.api())
    assert fetched.status_code == 200
    assert fetched.get_json()["items"] == [{"sku": "", "name": "Lid", "qty": 1}]
    with stack.sessions() as session:
        assert len(list(session.scalars(select(Order).where(Order.number == number)))) == 1
        assert len(list(session.scalars(select(Contact).where(Contact.email == email)))) == 1


def test_orders_api_links_an_existing_customer_by_email(stack: Stack) -> None:
    number = f"ORD-B{uuid.uuid4().hex[:8]}"
    response = stack.client().post(
        "/api/v1/orders",
        json={"number": number, "customer": {"email": "Jana.Novakova@example.com"}},
        headers=stack.api(),
    )
    assert response.status_code == 201
    assert response.get_json()["customer"]["name"] == "Jana Nováková"


def test_orders_api_refuses_a_bad_order_with_every_problem(stack: Stack) -> None:
    response = stack.client().post(
        "/api/v1/orders",
        json={
            "number": "has spaces",
            "customer": {"email": "not-an-email"},
            "placed_at": "yesterday",
            "items": [{"qty": 0}, "three"],
        },
        headers=stack.api(),
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {
        "number",
        "customer.email",
        "placed_at",
        "items[0].name",
        "items[0].qty",
        "items[1]",
    }


def test_orders_api_needs_a_token_and_answers_404_for_an_unknown_order(stack: Stack) -> None:
    client = stack.client()
    assert client.post("/api/v1/orders", json={}).status_code == 401
    missing = client.get("/api/v1/orders/ORD-NOPE-9", headers=stack.api())
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def upload(stack: Stack, text: str) -> Any:
    agent = stack.login("agent1")
    page = agent.get("/desk/orders/import").get_data(as_text=True)
    return agent.post(
        "/desk/orders/import",
        data={
            "csrf_token": csrf_token(page),
            "file": (io.BytesIO(text.encode()), "orders.csv", "text/csv"),
        },
        content_type="multipart/form-data",
    )


HEADER = "number,customer_email,customer_name,placed_at,status,total,items\n"


def test_csv_import_creates_and_updates_orders(stack: Stack) -> None:
    first, second = f"ORD-C{uuid.uuid4().hex[:8]}", f"ORD-D{uuid.uuid4().hex[:8]}"
    email = f"csv-{uuid.uuid4().hex[:6]}@example.com"
    response = upload(
        stack,
        HEADER
        + f'{first},{email},Cyril CSV,2026-11-01,paid,99 CZK,"2 x Kettle; 1 x USB-C cable"\n'
        + f"{second},{email},,2026-11-03T08:00:00+01:00,new,,\n",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Imported 2 orders" in html and html.count("created") >= 2
    with stack.sessions() as session:
        order = session.scalar(select(Order).where(Order.number == first))
        assert order is not None and order.contact is not None
        assert order.contact.email == email and order.contact.name == "Cyril CSV"
        assert order.items == [
            {"sku": "", "name": "Kettle", "qty": 2},
            {"sku": "", "name": "USB-C cable", "qty": 1},
        ]
    again = upload(stack, HEADER + f"{first},{email},Cyril CSV,2026-11-01,shipped,99 CZK,\n")
    assert again.status_code == 200 and "updated" in again.get_data(as_text=True)
    with stack.sessions() as session:
        assert session.scalar(select(Order.status).where(Order.number == first)) == "shipped"


def test_csv_import_with_a_bad_row_imports_nothing_and_reports_the_row(stack: Stack) -> None:
    good, bad = f"ORD-E{uuid.uuid4().hex[:8]}", f"ORD-F{uuid.uuid4().hex[:8]}"
    response = upload(
        stack,
        HEADER
        + f"{good},good@example.com,Good,2026-11-01,paid,1 CZK,1 x Thing\n"
        + f"{bad},bad@example.com,Bad,2026-13-45,paid,1 CZK,a few things\n"
        + f"{good},good@example.com,Good,2026-11-01,paid,1 CZK,\n",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported: 2 rows to fix" in html
    assert "placed_at: Use an ISO date" in html and "is not &#39;quantity x name&#39;" in html
    assert "is on line 2 already" in html
    assert "Not imported: the file has errors." in html
    with stack.sessions() as session:
        assert session.scalar(select(Order).where(Order.number.in_([good, bad]))) is None
        assert session.scalar(select(Contact).where(Contact.email == "good@example.com")) is None


def test_csv_without_the_required_columns_is_refused(stack: Stack) -> None:
    response = upload(stack, "number,email\nORD-X,x@example.com\n")
    assert response.status_code == 422
    assert "Missing column(s): customer_email" in response.get_data(as_text=True)
