"""Admin pages for SLAs end to end: calendars and policies with located problems, a saved
policy re-arms open tickets (the signal ``sla_changed``), and the desk shows the badges and
the "SLA at risk" list."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select

from tempodesk.core.db import transaction
from tempodesk.core.models import BusinessCalendar, SlaPolicy, Ticket
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import eventually

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def post(client: Any, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_a_calendar_with_a_bad_window_is_refused_at_its_day(stack: Stack) -> None:
    admin = stack.login("admin")
    data = {"name": f"Bad {uuid.uuid4().hex[:6]}", "time_zone": "Mars/Olympus"}
    data |= {f"hours.{d}": "" for d in WEEK} | {"hours.mon": "17:00-08:00", "holidays": "12-24"}
    response = post(admin, "/admin/sla/calendars/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "time_zone: unknown time zone" in html and "hours.mon:" in html
    assert 'name="hours.mon" value="17:00-08:00" maxlength="200" aria-invalid=true' in html


def test_a_saved_policy_re_arms_open_tickets_and_the_desk_shows_it_at_risk(stack: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    admin = stack.login("admin")
    calendar = {"name": f"Always {suffix}", "time_zone": "UTC", "holidays": ""}
    calendar |= {f"hours.{d}": "00:00-24:00" for d in WEEK}
    assert post(admin, "/admin/sla/calendars/new", calendar).status_code == 302
    body = {
        "subject": f"Slow site {suffix}",
        "body": "It is slow.",
        "customer": {"email": f"slow-{suffix}@example.com"},
        "priority": 4,
    }
    number = stack.client().post("/api/v1/tickets", json=body, headers=stack.api()).get_json()
    number = number["number"]
    policy = {
        "name": f"Urgent {suffix}",
        "position": "-10",
        "active": "1",
        "calendar": calendar["name"],
        "targets.first_response": "30m",
        "targets.resolution": "1d",
        "warn_percent": "50",
        "priority": "4",
        "on_breach": "raise_priority\nescalate Billing",
    }
    try:
        bad = post(admin, "/admin/sla/policies/new", policy | {"targets.resolution": "soon"})
        assert bad.status_code == 422
        assert "targets.resolution: &#39;soon&#39; is not a duration" in bad.get_data(as_text=True)
        saved = post(admin, "/admin/sla/policies/new", policy)
        assert saved.status_code == 302

        def re_armed() -> bool:
            with stack.sessions() as session:
                row = session.scalar(select(Ticket).where(Ticket.number == number))
                return bool(row and row.sla and row.sla["policy"]["policy_name"] == policy["name"])

        eventually(re_armed)
        agent = stack.login("admin")
        at_risk = agent.get("/desk/?view=view:sla_at_risk&per=100").get_data(as_text=True)
        assert number in at_risk
        assert 'data-sla-target="first_response"' in at_risk and "min left" in at_risk
        page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
        assert 'data-sla-target="resolution"' in page
        breached = agent.get("/desk/?view=view:sla_breached&per=100").get_data(as_text=True)
        assert number not in breached
    finally:
        with transaction(stack.sessions) as session:
            session.execute(delete(SlaPolicy).where(SlaPolicy.name == policy["name"]))
            session.execute(
                delete(BusinessCalendar).where(BusinessCalendar.name == calendar["name"])
            )
