"""Bulk re-routing from a list: each selected ticket routes itself again through its
workflow (the ``reroute`` Update), and its timeline says where it went and why."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from tempodesk.core.db import transaction
from tempodesk.core.models import GroupRouting, RoutingRule, TicketEvent
from tempodesk.routing import store
from tests.helpers import Stack
from tests.web.test_desk_lists import api_ticket, new_ticket, token_of


def test_bulk_rerouting_sends_tickets_where_the_rules_say_now(stack: Stack) -> None:
    word = f"bulkprobe{uuid.uuid4().hex[:6]}"
    first, second = new_ticket(stack, subject=f"{word} one"), new_ticket(stack, subject=word)
    assert api_ticket(stack, first)["group"] != "Billing"
    rule = {
        "name": "Bulk probe",
        "position": -100,
        "conditions": [{"field": "subject", "op": "contains", "value": word}],
        "set": {"group": "Billing"},
    }
    with transaction(stack.sessions) as session:
        store.save_rule(session, rule, "admin")
        store.set_group_routing(session, "Billing", "round_robin", 0, 0)
    try:
        admin = stack.login("admin")
        response = admin.post(
            "/desk/bulk",
            data={
                "csrf_token": token_of(admin),
                "op": "reroute",
                "ticket": [first, second],
                "request_id": str(uuid.uuid4()),
            },
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "2 of 2 tickets done" in html
    finally:
        with transaction(stack.sessions) as session:
            session.execute(delete(RoutingRule).where(RoutingRule.name == "Bulk probe"))
            session.execute(delete(GroupRouting).where(GroupRouting.group_name == "Billing"))
    tickets = [api_ticket(stack, n) for n in (first, second)]
    assert {t["group"] for t in tickets} == {"Billing"}
    assert {t["assignee"] for t in tickets} == {"admin", "agent2"}  # round robin: one each
    with stack.sessions() as session:
        event = session.scalar(
            select(TicketEvent).where(
                TicketEvent.ticket_number == first, TicketEvent.kind == "rerouted"
            )
        )
        assert event is not None and event.actor == "admin"
        assert event.data["reason"] == "bulk"
        assert event.data["routing"][0] == (
            f"to Billing: rule 'Bulk probe' matched subject '{word}'"
        )
    page = stack.login("admin").get(f"/desk/tickets/{first}").get_data(as_text=True)
    assert "<strong>admin</strong> routed the ticket again" in page
