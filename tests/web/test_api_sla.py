"""The API's ``sla`` block end to end: a policy in the database chosen at the opening, the
clocks started by the workflow, projected and read back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from tempodesk.core.db import transaction
from tempodesk.core.models import BusinessCalendar, SlaPolicy
from tempodesk.sla.policies import PolicyForm, save_calendar, save_policy
from tests.helpers import Stack

ALWAYS = {
    "time_zone": "UTC",
    "hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


def test_a_ticket_read_through_the_api_carries_its_sla_targets(stack: Stack) -> None:
    with transaction(stack.sessions) as session:
        save_calendar(session, "API all hours", ALWAYS, "admin", None)
        form = PolicyForm(
            name="API urgent",
            calendar="API all hours",
            targets={"first_response": "1h", "resolution": "1d"},
            conditions={"priority": [4], "field": {"sla_test": "yes"}},
        )
        save_policy(session, form, "admin", None)
    try:
        body = {
            "subject": "Everything is down",
            "body": "Nothing works.",
            "customer": {"email": "urgent@example.com", "name": "Urgent"},
            "priority": 4,
        }
        created = stack.client().post("/api/v1/tickets", json=body, headers=stack.api())
        assert created.status_code == 201, created.get_json()
        number = created.get_json()["number"]
        ticket = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
        assert ticket["sla"] == []  # the field condition does not match: no policy
    finally:
        with transaction(stack.sessions) as session:
            session.execute(delete(SlaPolicy).where(SlaPolicy.name == "API urgent"))
    with transaction(stack.sessions) as session:
        form.conditions = {"priority": [4]}
        form.name = "API urgent 2"
        save_policy(session, form, "admin", None)
    try:
        created = stack.client().post("/api/v1/tickets", json=body, headers=stack.api())
        number = created.get_json()["number"]
        ticket = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    finally:
        with transaction(stack.sessions) as session:
            session.execute(delete(SlaPolicy).where(SlaPolicy.name == "API urgent 2"))
            session.execute(
                delete(BusinessCalendar).where(BusinessCalendar.name == "API all hours")
            )
    assert [(s["target"], s["state"]) for s in ticket["sla"]] == [
        ("first_response", "running"),
        ("resolution", "running"),
    ]
    first, resolution = (datetime.fromisoformat(s["due_at"]) for s in ticket["sla"])
    assert int((resolution - first).total_seconds()) == 23 * 3600  # a day of 24 h, less 1 h
    assert all("breached_by_seconds" not in s for s in ticket["sla"])
