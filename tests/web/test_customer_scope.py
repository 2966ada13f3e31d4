"""Customer data scope: an agent sees a contact, an organisation or an order only through a
ticket they may see, unless they hold the explicit "customers" right (the Customers group);
every change to a contact is on its history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, ContactChange, Order, Organisation
from tests.helpers import Stack, csrf_token
from tests.web.test_people import api_ticket


@dataclass
class Customer:
    contact_id: int
    organisation_id: int
    email: str
    order: str
    organisation: str


@pytest.fixture
def customer(stack: Stack) -> Customer:
    """A customer of their own organisation, with an order, and no ticket yet."""
    tag = uuid.uuid4().hex[:8]
    with transaction(stack.sessions) as session:
        org = Organisation(name=f"Scope Org {tag}")
        session.add(org)
        session.flush()
        contact = Contact(
            name=f"Scope {tag}", email=f"scope-{tag}@example.org", organisation_id=org.id
        )
        session.add(contact)
        session.flush()
        session.add(Order(number=f"ORD-S-{tag}", contact_id=contact.id, total="10 CZK"))
        return Customer(contact.id, org.id, contact.email or "", f"ORD-S-{tag}", org.name)


def _sees(client: FlaskClient, customer: Customer) -> dict[str, bool]:
    """What of the customer the agent's desk shows, page by page and in the lists."""

    def ok(path: str, **query: str) -> bool:
        response = client.get(path, query_string=query)
        assert response.status_code in (200, 404), (path, response.status_code)
        return response.status_code == 200

    def listed(path: str, needle: str, **query: str) -> bool:
        response = client.get(path, query_string=query)
        assert response.status_code == 200
        return needle in response.get_data(as_text=True)

    lookup = client.get("/desk/contacts/lookup", query_string={"email": customer.email}).get_json()
    return {
        "contact": ok(f"/desk/contacts/{customer.contact_id}"),
        "organisation": ok(f"/desk/organisations/{customer.organisation_id}"),
        "order": ok(f"/desk/orders/{customer.order}"),
        # (the links, not the text: the search box repeats the query)
        "contact listed": listed(
            "/desk/contacts", f"/desk/contacts/{customer.contact_id}", q=customer.email
        ),
        "organisation listed": listed(
            "/desk/organisations", f"/desk/organisations/{customer.organisation_id}", q="Scope"
        ),
        "order listed": listed("/desk/orders", f"/desk/orders/{customer.order}", q=customer.order),
        "lookup": "Scope" in str(lookup.get("name", "")),
    }


def test_without_the_right_an_agent_sees_a_customer_only_through_a_visible_ticket(
    stack: Stack, customer: Customer
) -> None:
    agent2 = stack.login("agent2")  # Billing, not in Customers
    assert not any(_sees(agent2, customer).values())
    api_ticket(stack, {"email": customer.email}, order_number=customer.order)
    assert all(_sees(agent2, customer).values())


def test_the_customers_right_sees_every_customer(stack: Stack, customer: Customer) -> None:
    assert all(_sees(stack.login("agent1"), customer).values())  # agent1 is in Customers
    assert all(_sees(stack.login("admin"), customer).values())


def test_a_ticket_in_a_state_the_agent_may_not_see_shows_no_customer(
    stack: Stack, customer: Customer
) -> None:
    number = api_ticket(stack, {"email": customer.email}, channel="phone")  # guarded process
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/escalate", json={}, headers=stack.api()
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    limited = stack.login("limited")  # escalated is visible to Billing only
    assert limited.get(f"/desk/tickets/{number}").status_code == 404
    assert not _sees(limited, customer)["contact"]


def test_the_orders_api_answers_only_within_the_tokens_scope(
    stack: Stack, customer: Customer
) -> None:
    own = stack.client().get(f"/api/v1/orders/{customer.order}", headers=stack.api("admin"))
    assert own.status_code == 200
    hidden = stack.client().get(f"/api/v1/orders/{customer.order}", headers=stack.api("agent2"))
    assert hidden.status_code == 404
    write = stack.client().post(
        "/api/v1/orders",
        json={"number": customer.order, "customer": {"email": "mallory@example.org"}},
        headers=stack.api("agent2"),
    )
    assert write.status_code == 403


def test_merging_and_importing_need_the_customers_right(stack: Stack, customer: Customer) -> None:
    agent2 = stack.login("agent2")
    assert agent2.get(f"/desk/contacts/{customer.contact_id}/merge").status_code in (403, 404)
    assert agent2.get("/desk/orders/import").status_code == 403


def test_contact_edits_are_on_the_contacts_history(stack: Stack, customer: Customer) -> None:
    agent1 = stack.login("agent1")
    form = agent1.get(f"/desk/contacts/{customer.contact_id}/edit").get_data(as_text=True)
    response = agent1.post(
        f"/desk/contacts/{customer.contact_id}/edit",
        data={
            "csrf_token": csrf_token(form),
            "name": "Renamed Customer",
            "email": customer.email,
            "phone": "+420 777 123 456",
            "organisation_id": str(customer.organisation_id),
            "account_owner": "",
            "language": "en",
        },
    )
    assert response.status_code == 302
    with stack.sessions() as session:
        changes = {
            c.field: c
            for c in session.scalars(
                select(ContactChange).where(ContactChange.contact_id == customer.contact_id)
            )
        }
    assert set(changes) == {"name", "phone"}  # what did not change is not recorded
    assert changes["name"].old_value.startswith("Scope ")
    assert changes["name"].new_value == "Renamed Customer"
    assert changes["phone"].old_value == "" and changes["phone"].new_value == "+420777123456"
    assert changes["name"].changed_by == "agent1" and changes["name"].changed_at is not None
    page = agent1.get(f"/desk/contacts/{customer.contact_id}").get_data(as_text=True)
    assert "Renamed Customer" in page and "agent1" in page
    assert str(escape(changes["name"].old_value)) in page  # old → new, on the contact's page


def test_the_new_ticket_form_shows_no_customer_out_of_scope(
    stack: Stack, customer: Customer
) -> None:
    agent2 = stack.login("agent2")
    for query in ({"contact": str(customer.contact_id)}, {"order": customer.order}):
        page = agent2.get("/desk/tickets/new", query_string=query).get_data(as_text=True)
        assert customer.email not in page and "Scope " not in page
    page = agent2.get("/desk/tickets/new").get_data(as_text=True)
    hidden = {"csrf_token": csrf_token(page)}
    hidden["submission"] = str(uuid.uuid4())
    looked_up = agent2.post(
        "/desk/tickets/new",
        data={**hidden, "kind": "phone", "email": customer.email, "lookup": "1"},
    ).get_data(as_text=True)
    assert "Scope " not in looked_up  # the contact's name is not shown back
    refused = agent2.post(
        "/desk/tickets/new",
        data={
            **hidden,
            "kind": "walk_in",
            "subject": "About an order",
            "body": "Whose is it?",
            "order_number": customer.order,
            "priority": "2",
        },
    )
    assert refused.status_code == 422
    assert f"There is no order {customer.order}." in refused.get_data(as_text=True)
    assert customer.email not in refused.get_data(as_text=True)
    agent1 = stack.login("agent1")  # with the right: filled in
    page = agent1.get("/desk/tickets/new", query_string={"order": customer.order})
    assert customer.email in page.get_data(as_text=True)
