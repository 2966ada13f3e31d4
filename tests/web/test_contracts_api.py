"""Contracts through the API (pushed as orders are) and the entitlements they give: counted
per channel when a ticket opens or resolves, exactly once, warning or blocking when used up.

Every test uses its own fresh customer: a demo customer must never get a contract."""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

from sqlalchemy import delete, select

from tempodesk.core.db import transaction
from tempodesk.core.models import (
    BusinessCalendar,
    EntitlementUse,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from tempodesk.sla import entitlements
from tempodesk.sla.policies import PolicyForm, save_calendar, save_policy
from tests.helpers import Stack

ALWAYS = {"time_zone": "UTC", "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"]}}


def fresh_email() -> str:
    return f"contract-{uuid.uuid4().hex[:10]}@example.com"


def contract(email: str, *entitled: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "reference": f"C-{uuid.uuid4().hex[:10]}",
        "name": "Support contract",
        "customer": {"email": email, "name": "Klára Smluvní"},
        "valid_from": "2020-01-01",
        "entitlements": list(entitled),
        **extra,
    }


def push(stack: Stack, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    answer = stack.client().post("/api/v1/contracts", json=body, headers=stack.api())
    assert answer.status_code == expect, answer.get_json()
    result: dict[str, Any] = answer.get_json()
    return result


def open_ticket(stack: Stack, email: str, channel: str = "api") -> Any:
    body = {
        "subject": "The kettle again",
        "body": "It does not heat.",
        "customer": {"email": email, "name": "Klára Smluvní"},
        "channel": channel,
    }
    return stack.client().post("/api/v1/tickets", json=body, headers=stack.api())


def created_data(stack: Stack, number: str) -> dict[str, Any]:
    with stack.sessions() as session:
        event = session.scalar(
            select(TicketEvent).where(
                TicketEvent.ticket_number == number, TicketEvent.kind == "created"
            )
        )
        assert event is not None
        return dict(event.data)


def remaining(stack: Stack, reference: str) -> list[Any]:
    answer = stack.client().get(f"/api/v1/contracts/{reference}", headers=stack.api())
    assert answer.status_code == 200
    return [e["remaining"] for e in answer.get_json()["entitlements"]]


def test_the_contracts_api_upserts_by_reference_and_keeps_what_was_used(stack: Stack) -> None:
    email = fresh_email()
    cases = {"name": "Cases", "unit": "cases", "allocation": 5}
    body = contract(email, cases)
    first = push(stack, body)
    assert first["customer"]["email"] == email and first["entitlements"][0]["remaining"] == 5
    assert open_ticket(stack, email).status_code == 201
    body["name"] = "Support contract 2027"
    body["entitlements"] = [{**cases, "allocation": 7}, {"name": "Hours", "unit": "hours"}]
    again = push(stack, body, expect=200)
    assert again["name"] == "Support contract 2027"
    assert [(e["name"], e["remaining"]) for e in again["entitlements"]] == [
        ("Cases", 6),  # the ticket opened before the change still counts
        ("Hours", 0),
    ]


def test_the_contracts_api_refuses_bad_contracts_and_agents_without_the_customers_right(
    stack: Stack,
) -> None:
    bad = contract(fresh_email(), {"name": "X", "unit": "days", "allocation": -1})
    bad["valid_until"] = "2019-12-31"
    fields = push(stack, bad, expect=422)["error"]["fields"]
    assert set(fields) == {"valid_until", "entitlements[0].unit", "entitlements[0].allocation"}
    unknown = push(stack, contract(fresh_email(), policy="No such policy"), expect=422)
    assert set(unknown["error"]["fields"]) == {"policy"}
    refused = stack.client().post(
        "/api/v1/contracts", json=contract(fresh_email()), headers=stack.api("agent2")
    )
    assert refused.status_code == 403
    missing = stack.client().get("/api/v1/contracts/NOPE-1", headers=stack.api())
    assert missing.status_code == 404


def test_an_entitlement_limited_to_email_counts_only_email_tickets(stack: Stack) -> None:
    email = fresh_email()
    body = contract(email, {"name": "Mail", "allocation": 3, "channels": ["email"]})
    push(stack, body)
    assert open_ticket(stack, email, "api").status_code == 201
    assert remaining(stack, body["reference"]) == [3]
    assert open_ticket(stack, email, "email").status_code == 201
    assert remaining(stack, body["reference"]) == [2]


def test_an_entitlement_counting_at_resolution_counts_when_the_ticket_resolves(
    stack: Stack,
) -> None:
    email = fresh_email()
    body = contract(email, {"name": "Resolved", "allocation": 2, "counts_on": "resolve"})
    push(stack, body)
    created = open_ticket(stack, email)
    number = created.get_json()["number"]
    assert remaining(stack, body["reference"]) == [2]
    resolved = stack.client().post(
        f"/api/v1/tickets/{number}/actions/resolve",
        json={"fields": {"note": "Descaled."}, "time_spent": 25},
        headers=stack.api(),
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert remaining(stack, body["reference"]) == [1]


def test_hours_follow_the_time_agents_record_on_actions(stack: Stack) -> None:
    email = fresh_email()
    body = contract(email, {"name": "Hours", "unit": "hours", "allocation": 2})
    push(stack, body)
    number = open_ticket(stack, email).get_json()["number"]
    for minutes in (30, 15):
        done = stack.client().post(
            f"/api/v1/tickets/{number}/actions/comment",
            json={"fields": {"body": "Looked at it."}, "time_spent": minutes},
            headers=stack.api(),
        )
        assert done.status_code == 200, done.get_json()
    assert remaining(stack, body["reference"]) == [1.25]
    ticket = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    assert ticket["time_spent"] == 45


def test_counting_a_ticket_twice_counts_it_once(stack: Stack) -> None:
    email = fresh_email()
    body = contract(email, {"name": "Once", "allocation": 4})
    push(stack, body)
    number = open_ticket(stack, email).get_json()["number"]
    with transaction(stack.sessions) as session:
        used = session.scalar(
            select(EntitlementUse.entitlement_id).where(EntitlementUse.ticket_number == number)
        )
        assert used is not None
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        # What a retried opening activity or a projection written again would do.
        for _ in range(2):
            entitlements.account_opening(
                session, number, ticket.contact_id, ticket.channel, date.today()
            )
            entitlements.account_projection(
                session, number, ticket.contact_id, ticket.channel, True, 0, date.today()
            )
    assert remaining(stack, body["reference"]) == [3]


def test_a_used_up_warning_entitlement_opens_the_ticket_with_a_warning(stack: Stack) -> None:
    email = fresh_email()
    push(stack, contract(email, {"name": "Small", "allocation": 1, "on_exhausted": "warn"}))
    first = open_ticket(stack, email).get_json()["number"]
    assert created_data(stack, first)["entitlements"] == [
        {"name": "Small", "unit": "cases", "remaining": "0"}
    ]
    second = open_ticket(stack, email)
    assert second.status_code == 201
    noted = created_data(stack, second.get_json()["number"])["entitlements"]
    assert noted == [{"name": "Small", "unit": "cases", "remaining": "-1", "exhausted": "warn"}]


def test_a_used_up_blocking_entitlement_refuses_the_api_but_never_a_call(stack: Stack) -> None:
    email = fresh_email()
    push(stack, contract(email, {"name": "Blocked", "allocation": 0, "on_exhausted": "block"}))
    refused = open_ticket(stack, email)
    assert refused.status_code == 422
    assert "used up" in refused.get_json()["error"]["fields"]["entitlement"]
    call = open_ticket(stack, email, "phone")
    assert call.status_code == 201
    called = call.get_json()["number"]
    noted = created_data(stack, called)["entitlements"]
    assert noted[0]["exhausted"] == "block"
    page = stack.login("admin").get(f"/desk/tickets/{called}").get_data(as_text=True)
    assert "this one came another way and was taken in" in page


def test_a_customer_without_a_contract_gets_no_entitlement_note(stack: Stack) -> None:
    number = open_ticket(stack, fresh_email()).get_json()["number"]
    assert "entitlements" not in created_data(stack, number)


def test_a_contract_pushed_later_gives_the_open_tickets_its_policy(stack: Stack) -> None:
    name = f"Contract {uuid.uuid4().hex[:6]}"
    with transaction(stack.sessions) as session:
        save_calendar(session, name, ALWAYS, "admin", None)
        save_policy(session, PolicyForm(name, name, {"resolution": "2h"}), "admin", None)
    email = fresh_email()
    number = open_ticket(stack, email).get_json()["number"]
    try:
        push(stack, contract(email, policy=name))
        chosen = None
        for _ in range(100):
            with stack.sessions() as session:
                sla = session.scalar(select(Ticket.sla).where(Ticket.number == number))
            chosen = ((sla or {}).get("policy") or {}).get("policy_name")
            if chosen == name:
                break
            time.sleep(0.1)
        assert chosen == name
    finally:
        with transaction(stack.sessions) as session:
            session.execute(delete(SlaPolicy).where(SlaPolicy.name == name))
            session.execute(delete(BusinessCalendar).where(BusinessCalendar.name == name))
