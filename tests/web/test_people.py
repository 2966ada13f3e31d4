"""Customers on the desk: contacts, organisations, orders, merging, tickets entered by agents."""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, Order, Organisation, Ticket
from tests.helpers import Stack, csrf_token, workflow_history


def api_ticket(stack: Stack, customer: dict[str, str], **extra: Any) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": extra.pop("subject", "A question"),
            "body": extra.pop("body", "Hello, I have a question."),
            "customer": customer,
            **extra,
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    number: str = response.get_json()["number"]
    return number


def ticket_json(stack: Stack, number: str) -> dict[str, Any]:
    response = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api())
    assert response.status_code == 200
    data: dict[str, Any] = response.get_json()
    return data


def action_form(html: str, action: str) -> dict[str, str]:
    match = re.search(
        rf'<form method="post" action="[^"]*/actions/{action}"[^>]*>(.*?)</form>', html, re.S
    )
    assert match, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1)))


def press(client: FlaskClient, number: str, action: str, **fields: str) -> Any:
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    return client.post(
        f"/desk/tickets/{number}/actions/{action}", data={**action_form(page, action), **fields}
    )


def contact_id(stack: Stack, **where: str) -> int:
    with stack.sessions() as session:
        stmt = select(Contact.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Contact, key) == value)
        found = session.scalar(stmt)
        assert found is not None, where
        return int(found)


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("the condition did not become true in time")


def unique_phone() -> str:
    return f"+420 7{random.randint(10, 99)} {random.randint(100, 999)} {random.randint(100, 999)}"


def post_form(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


# ----------------------------------------------------------------------------- contacts


def test_contact_page_lists_only_the_tickets_the_agent_may_see(stack: Stack) -> None:
    phone = unique_phone()
    secret = f"escalated-{uuid.uuid4().hex[:8]}"
    visible = api_ticket(stack, {"phone": phone, "name": "Karel"}, channel="phone")
    hidden = api_ticket(stack, {"phone": phone}, channel="phone", body=secret)
    billing = stack.login("agent2")
    assert press(billing, hidden, "escalate").status_code == 302  # visible to Billing only
    contact = contact_id(stack, phone=phone.replace(" ", ""))

    page = stack.login("agent1").get(f"/desk/contacts/{contact}").get_data(as_text=True)
    assert visible in page and "Hello, I have a question." in page
    assert hidden not in page and secret not in page
    page = billing.get(f"/desk/contacts/{contact}").get_data(as_text=True)
    assert visible in page and hidden in page and secret in page


def test_contacts_are_found_by_name_email_or_phone(stack: Stack) -> None:
    agent = stack.login("agent1")
    for query in ("Nováková", "JANA.NOVAKOVA@", "605111"):
        page = agent.get("/desk/contacts", query_string={"q": query}).get_data(as_text=True)
        assert ("Jana Nováková" in page) or ("Eva Dvořáková" in page), query
    page = agent.get("/desk/contacts", query_string={"q": "605111"}).get_data(as_text=True)
    assert "Eva Dvořáková" in page and "Jana Nováková" not in page
    assert "No contact matches" in agent.get("/desk/contacts?q=zzz-nobody").get_data(as_text=True)


def test_contact_form_checks_email_phone_and_duplicates(stack: Stack) -> None:
    agent = stack.login("agent1")
    bad = post_form(agent, "/desk/contacts/new", {"name": "X", "email": "not-an-email"})
    assert bad.status_code == 422
    assert "Enter a valid email address." in bad.get_data(as_text=True)
    taken = post_form(agent, "/desk/contacts/new", {"email": "Jana.Novakova@example.com"})
    assert taken.status_code == 422 and "Another contact has this email" in taken.get_data(
        as_text=True
    )
    phone = post_form(agent, "/desk/contacts/new", {"name": "Y", "phone": "12"})
    assert "Enter a valid phone number." in phone.get_data(as_text=True)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    created = post_form(
        agent,
        "/desk/contacts/new",
        {"name": " Nina  New ", "email": email.upper(), "language": "cs"},
    )
    assert created.status_code == 302
    with stack.sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.email == email))
        assert contact is not None and contact.name == "Nina New" and contact.language == "cs"
    edited = post_form(
        agent,
        f"/desk/contacts/{contact.id}/edit",
        {"name": "Nina New", "email": email, "phone": "+420 601 000 001", "language": "cs"},
    )
    assert edited.status_code == 302
    page = agent.get(f"/desk/contacts/{contact.id}").get_data(as_text=True)
    assert "+420601000001" in page


def test_merge_moves_tickets_and_orders_and_removes_the_duplicate(stack: Stack) -> None:
    suffix = uuid.uuid4().hex[:8]
    keep_email, dup_email = f"keep-{suffix}@example.com", f"dup-{suffix}@example.net"
    api_ticket(stack, {"email": keep_email, "name": "Marta Malá"})
    open_ticket = api_ticket(stack, {"email": dup_email, "name": "M. Malá"}, subject="Open one")
    closed_ticket = api_ticket(stack, {"email": dup_email}, subject="Closed one")
    agent = stack.login("agent1")
    closing = press(agent, closed_ticket, "close_without_reply", reason="duplicate")
    assert closing.status_code == 302
    eventually(  # its workflow has ended: only the projection row is left to update
        lambda: any(
            e.HasField("workflow_execution_completed_event_attributes")
            for e in workflow_history(stack.settings, f"ticket-{closed_ticket}")
        )
    )
    order = f"ORD-M{suffix}"
    assert (
        stack.client()
        .post(
            "/api/v1/orders",
            json={"number": order, "customer": {"email": dup_email}, "items": []},
            headers=stack.api(),
        )
        .status_code
        == 201
    )
    keep, duplicate = contact_id(stack, email=keep_email), contact_id(stack, email=dup_email)

    page = agent.get(f"/desk/contacts/{keep}/merge", query_string={"q": dup_email})
    assert dup_email in page.get_data(as_text=True)
    merged = agent.post(
        f"/desk/contacts/{keep}/merge",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "duplicate_id": duplicate},
    )
    assert merged.status_code == 302
    assert "2 ticket(s) and 1 order(s) moved" in agent.get(f"/desk/contacts/{keep}").get_data(
        as_text=True
    )

    with stack.sessions() as session:
        assert session.get(Contact, duplicate) is None
        assert session.scalar(select(Order.contact_id).where(Order.number == order)) == keep
        closed = session.scalar(select(Ticket).where(Ticket.number == closed_ticket))
        assert closed is not None and closed.contact_id == keep
        assert closed.customer_email == keep_email
    # The open ticket was told by its workflow: a timeline event, then the projection.
    eventually(lambda: ticket_json(stack, open_ticket)["customer"]["id"] == keep)
    events = ticket_json(stack, open_ticket)["events"]
    changed = [e for e in events if e["kind"] == "contact_changed"]
    assert changed and changed[0]["data"] == {"from_contact": duplicate, "to_contact": keep}
    assert changed[0]["actor"] == "agent1"
    assert [e["kind"] for e in ticket_json(stack, closed_ticket)["events"]].count(
        "contact_changed"
    ) == 0
    html = agent.get(f"/desk/contacts/{keep}").get_data(as_text=True)
    assert open_ticket in html and closed_ticket in html and order in html


def test_merging_a_contact_into_itself_is_refused(stack: Stack) -> None:
    agent = stack.login("agent1")
    jana = contact_id(stack, email="jana.novakova@example.com")
    page = agent.get(f"/desk/contacts/{jana}/merge").get_data(as_text=True)
    response = agent.post(
        f"/desk/contacts/{jana}/merge", data={"csrf_token": csrf_token(page), "duplicate_id": jana}
    )
    assert response.status_code == 422
    assert "cannot be merged into itself" in response.get_data(as_text=True)


# ----------------------------------------------------------------- organisations, ticket page


def test_organisation_page_lists_members_and_their_tickets(stack: Stack) -> None:
    agent = stack.login("agent1")
    name = f"Org {uuid.uuid4().hex[:6]}"
    created = post_form(agent, "/desk/organisations/new", {"name": name, "account_owner": "agent2"})
    assert created.status_code == 302
    again = post_form(agent, "/desk/organisations/new", {"name": name})
    assert again.status_code == 422 and "already" in again.get_data(as_text=True)
    email = f"member-{uuid.uuid4().hex[:6]}@org.example"
    with transaction(stack.sessions) as session:
        org = session.scalar(select(Organisation).where(Organisation.name == name))
        assert org is not None
        session.add(Contact(email=email, name="Member One", organisation_id=org.id))
        org_id = org.id
    number = api_ticket(stack, {"email": email})
    page = agent.get(f"/desk/organisations/{org_id}").get_data(as_text=True)
    assert "Member One" in page and number in page and "agent2" in page
    # The organisation's account owner is the ticket's assignee and shows on the ticket page.
    assert ticket_json(stack, number)["assignee"] == "agent2"
    ticket_page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert f'href="/desk/organisations/{org_id}"' in ticket_page
    assert "Account owner: agent2" in ticket_page


def test_ticket_customer_panel_opens_everything_about_the_customer(stack: Stack) -> None:
    number = api_ticket(
        stack,
        {"email": "petr@acme.example", "name": "Petr Svoboda"},
        order_number="ORD-1002",
    )
    page = stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    petr = contact_id(stack, email="petr@acme.example")
    assert f'href="/desk/contacts/{petr}"' in page
    assert "All communication, tickets" in page
    assert "Order ORD-1002" in page and "Office chair" in page
    assert 'href="/desk/orders/ORD-1002"' in page


# ---------------------------------------------------------------------------------- orders


def test_order_pages_show_items_tickets_and_start_a_ticket(stack: Stack) -> None:
    agent = stack.login("agent1")
    number = api_ticket(
        stack, {"email": "eva@example.org", "phone": "+420605111222"}, order_number="ORD-1003"
    )
    listing = agent.get("/desk/orders", query_string={"q": "ord-1003"}).get_data(as_text=True)
    assert "ORD-1003" in listing and "ORD-1001" not in listing
    go = agent.get("/desk/orders", query_string={"q": "ord-1003", "go": "1"})
    assert go.status_code == 302 and go.headers["Location"].endswith("/desk/orders/ORD-1003")
    page = agent.get("/desk/orders/ORD-1003").get_data(as_text=True)
    assert "USB-C cable" in page and number in page
    assert 'href="/desk/tickets/new?order=ORD-1003"' in page
    assert agent.get("/desk/orders/NOPE-1").status_code == 404


# -------------------------------------------------------------------- tickets by agents


def new_ticket_form(client: FlaskClient, query: str = "") -> tuple[str, dict[str, str]]:
    page = client.get(f"/desk/tickets/new{query}").get_data(as_text=True)
    submission = re.search(r'name="submission" value="([^"]+)"', page)
    assert submission
    return page, {"csrf_token": csrf_token(page), "submission": submission.group(1)}


def created_number(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/desk/tickets/([^/?#]+)$", response.headers["Location"])
    assert match
    return match.group(1)


def test_walk_in_ticket_by_an_agent_records_channel_agent_and_a_new_contact(
    stack: Stack,
) -> None:
    agent = stack.login("agent1")
    _, hidden = new_ticket_form(agent)
    email = f"walkin-{uuid.uuid4().hex[:8]}@example.com"
    response = agent.post(
        "/desk/tickets/new",
        data={
            **hidden,
            "kind": "walk_in",
            "email": email,
            "name": "Pavel Pěší",
            "subject": "Brought a broken toaster",
            "body": "The customer came to the counter with the toaster.",
            "priority": "3",
        },
    )
    number = created_number(response)
    ticket = ticket_json(stack, number)
    assert ticket["channel"] == "walk_in" and ticket["priority"] == 3
    assert ticket["customer"]["email"] == email and ticket["customer"]["name"] == "Pavel Pěší"
    created = ticket["events"][0]
    assert created["kind"] == "created" and created["actor"] == "agent1"
    assert created["data"]["entered_by"] == "agent1"
    assert ticket["customer"]["id"] == contact_id(stack, email=email)  # created by the intake


def test_phone_ticket_for_a_caller_known_only_by_phone(stack: Stack) -> None:
    agent = stack.login("agent1")
    page, hidden = new_ticket_form(agent)
    assert "Phone call" in page and "Walk-in" in page and "Returned parcel" in page
    phone = unique_phone()
    looked_up = agent.post(
        "/desk/tickets/new", data={**hidden, "kind": "phone", "phone": phone, "lookup": "1"}
    )
    assert "a new contact will be created" in looked_up.get_data(as_text=True)
    number = created_number(
        agent.post(
            "/desk/tickets/new",
            data={
                **hidden,
                "kind": "phone",
                "phone": phone,
                "subject": "Called about delivery",
                "body": "Asked when the parcel arrives.",
                "priority": "2",
            },
        )
    )
    ticket = ticket_json(stack, number)
    assert ticket["channel"] == "phone" and ticket["process"]["name"] == "guarded"
    assert ticket["customer"]["phone"] == phone.replace(" ", "")
    # The same caller again: the look-up shows the contact the first ticket created.
    _, hidden = new_ticket_form(agent)
    again = agent.post(
        "/desk/tickets/new", data={**hidden, "kind": "phone", "phone": phone, "lookup": "1"}
    )
    assert "Existing contact:" in again.get_data(as_text=True)


def test_returned_parcel_starts_the_returns_process(stack: Stack) -> None:
    agent = stack.login("agent1")
    _, hidden = new_ticket_form(agent)
    number = created_number(
        agent.post(
            "/desk/tickets/new",
            data={
                **hidden,
                "kind": "returned_parcel",
                "email": "jana.novakova@example.com",
                "subject": "Parcel returned",
                "body": "The kettle came back in its box.",
                "order_number": "ORD-1001",
                "priority": "2",
            },
        )
    )
    ticket = ticket_json(stack, number)
    assert ticket["channel"] == "walk_in" and ticket["process"]["name"] == "returns"
    assert ticket["order"]["number"] == "ORD-1001"


def test_double_submit_of_the_new_ticket_form_files_one_ticket(stack: Stack) -> None:
    agent = stack.login("agent1")
    _, hidden = new_ticket_form(agent)
    data = {
        **hidden,
        "kind": "phone",
        "email": "jana.novakova@example.com",
        "subject": "Twice",
        "body": "Clicked twice.",
        "priority": "2",
    }
    first = created_number(agent.post("/desk/tickets/new", data=data))
    second = created_number(agent.post("/desk/tickets/new", data=data))
    assert first == second


def test_new_ticket_from_an_order_links_its_customer_and_the_order(stack: Stack) -> None:
    agent = stack.login("agent1")
    page, hidden = new_ticket_form(agent, "?order=ORD-1002")
    assert 'value="petr@acme.example"' in page and 'value="ORD-1002"' in page
    number = created_number(
        agent.post(
            "/desk/tickets/new",
            data={
                **hidden,
                "kind": "phone",
                "email": "petr@acme.example",
                "name": "Petr Svoboda",
                "subject": "Order ORD-1002",
                "body": "One chair is missing.",
                "order_number": "ORD-1002",
                "priority": "2",
            },
        )
    )
    ticket = ticket_json(stack, number)
    assert ticket["order"]["number"] == "ORD-1002"
    assert ticket["customer"]["id"] == contact_id(stack, email="petr@acme.example")
    assert number in agent.get("/desk/orders/ORD-1002").get_data(as_text=True)


def test_order_number_alone_fills_in_the_orders_customer(stack: Stack) -> None:
    agent = stack.login("agent1")
    _, hidden = new_ticket_form(agent)
    number = created_number(
        agent.post(
            "/desk/tickets/new",
            data={
                **hidden,
                "kind": "walk_in",
                "subject": "About my order",
                "body": "Where is it?",
                "order_number": "ord-1003",
                "priority": "2",
            },
        )
    )
    ticket = ticket_json(stack, number)
    assert ticket["order"]["number"] == "ORD-1003"
    assert ticket["customer"]["phone"] == "+420605111222"


def test_unknown_order_or_someone_elses_order_is_refused(stack: Stack) -> None:
    agent = stack.login("agent1")
    _, hidden = new_ticket_form(agent)
    base = {**hidden, "kind": "phone", "subject": "S", "body": "B", "priority": "2"}
    unknown = agent.post("/desk/tickets/new", data={**base, "order_number": "ORD-404404"})
    assert unknown.status_code == 422
    assert "There is no order ORD-404404." in unknown.get_data(as_text=True)
    other = agent.post(
        "/desk/tickets/new",
        data={**base, "email": "jana.novakova@example.com", "order_number": "ORD-1002"},
    )
    assert other.status_code == 422
    assert "belongs to another customer" in other.get_data(as_text=True)
    missing = agent.post("/desk/tickets/new", data={**hidden, "kind": "walk_in", "priority": "2"})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "Enter a subject." in html
