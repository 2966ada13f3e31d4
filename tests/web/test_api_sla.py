"""The API's ``sla`` block end to end: a policy in the database chosen at the opening, the
clocks started by the workflow, projected and read back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete

from tempodesk.core.db import transaction
from tempodesk.core.models import BusinessCalendar, SlaPolicy
from tempodesk.sla.policies import PolicyForm, save_calendar, save_policy
from tests.helpers import Stack

ALWAYS = {
    "time_zone": "UTC",
    "hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


def read(stack: Stack, priority: int) -> dict[str, Any]:
    body = {
        "subject": "Everything is down",
        "body": "Nothing works.",
        "customer": {"email": "urgent@example.com", "name": "Urgent"},
        "priority": priority,
    }
    created = stack.client().post("/api/v1/tickets", json=body, headers=stack.api())
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]
    ticket: dict[str, Any] = (
        stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    )
    return ticket


def test_a_ticket_read_through_the_api_carries_its_sla_targets(stack: Stack) -> None:
    with transaction(stack.sessions) as session:
        save_calendar(session, "API all hours", ALWAYS, "admin", None)
        form = PolicyForm(
            name="API urgent",
            calendar="API all hours",
            targets={"first_response": "1h", "resolution": "1d"},
            conditions={"priority": [4]},
            position=-1,  # before the demo's policy for every ticket
        )
        save_policy(session, form, "admin", None)
    try:
        urgent, normal = read(stack, 4), read(stack, 2)
    finally:
        with transaction(stack.sessions) as session:
            session.execute(delete(SlaPolicy).where(SlaPolicy.name == "API urgent"))
            session.execute(
                delete(BusinessCalendar).where(BusinessCalendar.name == "API all hours")
            )
    assert [(s["target"], s["state"]) for s in urgent["sla"]] == [
        ("first_response", "running"),
        ("resolution", "running"),
    ]
    first, resolution = (datetime.fromisoformat(s["due_at"]) for s in urgent["sla"])
    assert int((resolution - first).total_seconds()) == 23 * 3600  # a day of 24 h, less 1 h
    assert all("breached_by_seconds" not in s for s in urgent["sla"])
    # The demo's policy (Prague office hours): 4 business hours, 3 business days.
    assert [s["target"] for s in normal["sla"]] == ["first_response", "resolution"]
    assert all(s["due_at"] for s in normal["sla"])
