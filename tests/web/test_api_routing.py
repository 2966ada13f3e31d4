"""The routing rules API end to end: admins list, add, replace and delete rules; a rule
sends a new ticket to its group and the timeline says why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tempodesk.core.models import Ticket, TicketEvent
from tests.helpers import Stack, csrf_token

PROBE = {
    "name": "Invoices",
    "position": -100,
    "conditions": [{"field": "subject", "op": "contains_any", "value": "routingprobe"}],
    "set": {"group": "Billing", "priority": 4, "fields": {"topic": "invoices"}},
}


def rules_api(stack: Stack, method: str, path: str = "", body: Any = None, user: str = "admin"):  # type: ignore[no-untyped-def]
    call = getattr(stack.client(), method)
    return call(f"/api/v1/routing/rules{path}", json=body, headers=stack.api(user))


def test_admins_add_read_replace_and_delete_a_rule(stack: Stack) -> None:
    created = rules_api(stack, "post", body=PROBE)
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert rule["set"] == PROBE["set"] and rule["stop"] is True and rule["enabled"] is True
    path = f"/{rule['id']}"
    try:
        assert rules_api(stack, "get", path).get_json() == rule
        assert rule in rules_api(stack, "get").get_json()
        changed = rules_api(stack, "put", path, {**PROBE, "stop": False, "enabled": False})
        assert changed.status_code == 200
        assert (changed.get_json()["stop"], changed.get_json()["enabled"]) == (False, False)
    finally:
        assert rules_api(stack, "delete", path).status_code == 204
    assert rules_api(stack, "get", path).status_code == 404


def test_a_rule_with_problems_is_refused_with_each_one(stack: Stack) -> None:
    body = {
        "name": "Bad",
        "conditions": [{"field": "subject", "op": "resembles", "value": "x"}],
        "set": {"group": "Nobody's group", "assignee": "ghost"},
    }
    answer = rules_api(stack, "post", body=body)
    assert answer.status_code == 422
    problems = list(answer.get_json()["error"]["fields"].values())
    assert problems == [
        "Condition 1: unknown operator 'resembles' (one of is, is_not, in, contains, "
        "contains_any, is_set).",
        "There is no group 'Nobody's group'.",
        "There is no agent 'ghost'.",
    ]


def test_agents_may_not_touch_routing_rules(stack: Stack) -> None:
    assert rules_api(stack, "get", user="agent1").status_code == 403
    assert rules_api(stack, "post", body=PROBE, user="agent1").status_code == 403


def test_a_rule_routes_a_new_ticket_and_the_timeline_says_why(stack: Stack) -> None:
    rule = rules_api(stack, "post", body=PROBE).get_json()
    try:
        body = {
            "subject": "RoutingProbe: my invoice is wrong",
            "body": "Please check it.",
            "customer": {"email": "routing-probe@example.com", "name": "Probe"},
        }
        created = stack.client().post("/api/v1/tickets", json=body, headers=stack.api())
        assert created.status_code == 201, created.get_json()
        number = created.get_json()["number"]
    finally:
        rules_api(stack, "delete", f"/{rule['id']}")
    with stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        assert (ticket.group_name, ticket.priority) == ("Billing", 4)
        assert ticket.fields["topic"] == "invoices"
        event = session.scalar(
            select(TicketEvent).where(
                TicketEvent.ticket_number == number, TicketEvent.kind == "created"
            )
        )
        assert event is not None
        assert event.data["routing"] == [
            "to Billing, priority 4, topic = invoices: rule 'Invoices' matched subject "
            "'routingprobe'"
        ]
    page = stack.login("admin").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "rule &#39;Invoices&#39; matched subject &#39;routingprobe&#39;" in page


def test_a_rule_that_sets_a_process_pins_it_when_the_ticket_is_accepted(stack: Stack) -> None:
    body = {
        "name": "Returns",
        "position": -100,
        "conditions": [{"field": "body", "op": "contains", "value": "returnprobe"}],
        "set": {"process": "returns"},
    }
    rule = rules_api(stack, "post", body=body).get_json()
    try:
        ticket = {
            "subject": "A parcel",
            "body": "I would like to ReturnProbe this kettle.",
            "customer": {"email": "routing-probe@example.com"},
        }
        created = stack.client().post("/api/v1/tickets", json=ticket, headers=stack.api())
        assert created.status_code == 201, created.get_json()
        number = created.get_json()["number"]
    finally:
        rules_api(stack, "delete", f"/{rule['id']}")
    with stack.sessions() as session:
        row = session.scalar(select(Ticket).where(Ticket.number == number))
        assert row is not None and row.process_name == "returns"
        event = session.scalar(
            select(TicketEvent).where(
                TicketEvent.ticket_number == number, TicketEvent.kind == "created"
            )
        )
        assert event is not None
        assert event.data["routing"][0] == (
            "process returns: rule 'Returns' matched body 'returnprobe'"
        )


def test_a_channel_names_only_agents_groups_and_processes_that_exist(stack: Stack) -> None:
    admin = stack.login("admin")
    token = csrf_token(admin.get("/admin/channels/walk_in").get_data(as_text=True))
    answer = admin.post(
        "/admin/channels/walk_in",
        data={
            "csrf_token": token,
            "label": "x",
            "owner": "ghost",
            "group": "Nobody",
            "process": "",
        },
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "There is no such agent." in html and "There is no such group." in html
    assert stack.login("agent1").get("/admin/channels/walk_in").status_code == 403
