"""Triggers through the REST API, end to end (Flask, a real worker, Temporal, PostgreSQL):
admins store them; a new ticket runs them on its events, each firing on its timeline; an
open ticket is told when they change; a trigger not valid is refused by its index."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import Stack
from tests.web.test_inbound_email import ticket
from tests.web.test_merge import post_ticket

URGENT = {
    "name": "Refunds are urgent",
    "on": "created",
    "conditions": [{"field": "subject", "op": "contains", "value": "refund"}],
    "actions": [{"type": "set_priority", "value": 4}],
}
ESCALATE = {
    "name": "Customer wrote again: to billing",
    "on": "customer_message",
    "conditions": [{"field": "priority", "op": "is", "value": 4}],
    "actions": [{"type": "set_field", "name": "queue", "value": "billing"}],
}


def put(stack: Stack, triggers: list[dict[str, Any]], user: str = "admin") -> Any:
    return stack.client().put(
        "/api/v1/triggers", json={"triggers": triggers}, headers=stack.api(user)
    )


@pytest.fixture
def no_triggers_after(stack: Stack) -> Iterator[None]:
    """The stack is shared: leave no trigger behind for other tests' tickets."""
    yield
    assert put(stack, []).status_code == 200


def test_a_new_ticket_runs_the_triggers_and_an_open_one_hears_of_changes(
    stack: Stack, no_triggers_after: None
) -> None:
    stored = put(stack, [URGENT])
    assert stored.status_code == 200, stored.get_json()
    number = post_ticket(stack, "A refund for my kettle")
    created = ticket(stack, number)
    assert created["priority"] == 4
    fired = [e for e in created["events"] if e["kind"] == "trigger_fired"]
    assert [e["data"]["name"] for e in fired] == [URGENT["name"]]

    assert put(stack, [URGENT, ESCALATE]).status_code == 200
    message = stack.client().post(
        f"/api/v1/tickets/{number}/messages", json={"body": "Any news?"}, headers=stack.api()
    )
    assert message.status_code == 202
    for _ in range(200):
        if ticket(stack, number)["fields"].get("queue") == "billing":
            break
        time.sleep(0.05)
    assert ticket(stack, number)["fields"] == {"queue": "billing"}


def test_triggers_are_for_admins_and_checked_whole(stack: Stack, no_triggers_after: None) -> None:
    assert put(stack, [URGENT], user="agent1").status_code == 403
    bad = put(stack, [URGENT, {**ESCALATE, "on": "sometimes"}])
    assert bad.status_code == 422
    assert "1.on" in bad.get_json()["error"]["fields"]
    assert stack.client().get("/api/v1/triggers", headers=stack.api()).get_json() == {
        "triggers": []
    } or all(
        t["on"] != "sometimes"
        for t in stack.client().get("/api/v1/triggers", headers=stack.api()).get_json()["triggers"]
    )
