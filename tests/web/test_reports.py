"""The reports through the web: who may read them, the page in both languages, the API's
JSON and formula-safe CSV, and the projection keeping when a ticket was resolved."""

from __future__ import annotations

import csv
import io
import uuid

from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Group, Ticket, User
from tempodesk.people import accounts
from tempodesk.reports.export import safe_cell
from tests.helpers import Stack
from tests.tempodesk.reports.seed import Seeded, at, seed

PERIOD = "from=2020-03-01&to=2020-03-03"


def supervisor_of(stack: Stack, group: str) -> str:
    """A new agent who supervises ``group`` (created if need be), able to sign in."""
    username = f"sup-{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        if session.scalar(select(Group).where(Group.name == group)) is None:
            session.add(Group(name=group))
            session.flush()
        accounts.create_user(session, username, "supervisor-pass", groups=[group])
        chief = session.scalar(select(Group).where(Group.name == group))
        assert chief is not None
        chief.supervisor = username
    stack.logins[username] = "supervisor-pass"
    return username


def test_the_api_answers_a_report_as_json_with_its_filters(any_stack: Stack) -> None:
    seeded = seed(any_stack)
    response = any_stack.client().get(
        f"/api/v1/reports/first_response?{PERIOD}&group={seeded.group}", headers=any_stack.api()
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["report"] == "first_response"
    assert body["filters"]["from"] == "2020-03-01"
    assert body["columns"] == ["key", "tickets", "answered", "p50_hours", "p90_hours"]
    assert body["rows"][0] == {
        "key": "email",
        "tickets": 3,
        "answered": 2,
        "p50_hours": 2.0,
        "p90_hours": 2.8,
    }


def test_csv_escapes_cells_a_spreadsheet_would_run(any_stack: Stack) -> None:
    seeded = seed(any_stack)
    with transaction(any_stack.sessions) as session:
        for n, evil in enumerate(("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)")):
            session.add(
                Ticket(
                    number=f"EVIL-{n}-{seeded.group}",
                    workflow_id=f"ticket-EVIL-{n}-{seeded.group}",
                    state="open",
                    state_category="open",
                    process_name="support",
                    process_version=1,
                    assignee=evil,
                    group_name=seeded.group,
                    created_at=at(2, 12),
                )
            )
    response = any_stack.client().get(
        f"/api/v1/reports/agent_load?{PERIOD}&group={seeded.group}&format=csv",
        headers=any_stack.api(),
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["agent", "open", "resolved"]
    agents = [row[0] for row in rows[1:]]
    assert {"'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)"} <= set(agents)
    assert [seeded.alice, "1", "2"] in rows
    assert safe_cell(-2) == -2 and safe_cell("plain") == "plain" and safe_cell(None) == ""


def test_reports_are_for_admins_and_supervisors_only(any_stack: Stack) -> None:
    client = any_stack.client()
    response = client.get("/api/v1/reports/backlog", headers=any_stack.api("agent1"))
    assert response.status_code == 403
    assert client.get("/api/v1/reports/nothing", headers=any_stack.api()).status_code == 404
    agent = any_stack.login("agent1")
    assert agent.get("/desk/reports").status_code == 403
    assert "/desk/reports" not in agent.get("/desk/").get_data(as_text=True)


def test_a_supervisor_reads_their_groups_and_no_other(any_stack: Stack) -> None:
    seeded: Seeded = seed(any_stack)
    chief = supervisor_of(any_stack, seeded.group)
    headers = any_stack.api(chief)
    client = any_stack.client()
    mine = client.get(f"/api/v1/reports/created_resolved?{PERIOD}", headers=headers)
    assert [row["created"] for row in mine.get_json()["rows"]] == [2, 1, 2]
    theirs = client.get(
        f"/api/v1/reports/created_resolved?{PERIOD}&group={seeded.other_group}", headers=headers
    )
    assert theirs.status_code == 400
    assert theirs.get_json()["error"]["fields"]["group"]
    page = any_stack.login(chief).get(f"/desk/reports?{PERIOD}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert seeded.group in html and seeded.other_group not in html


def test_bad_filters_are_named(any_stack: Stack) -> None:
    client = any_stack.client()
    for query, field in (
        ("from=2020-13-01", "from"),
        ("from=2020-03-05&to=2020-03-01", "from"),
        ("from=2018-01-01&to=2020-01-01", "from"),
        ("by=weather", "by"),
        ("format=xlsx", "format"),
    ):
        response = client.get(f"/api/v1/reports/backlog?{query}", headers=any_stack.api())
        assert response.status_code == 400, query
        assert field in response.get_json()["error"]["fields"], query


def test_the_page_draws_every_report_in_english_and_czech(any_stack: Stack) -> None:
    seeded = seed(any_stack)
    admin = any_stack.login("admin")
    page = admin.get(f"/desk/reports?{PERIOD}&group={seeded.group}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('<svg class="chart"') == 7
    assert "Tickets created and resolved per day" in html
    assert 'href="/desk/reports"' in html  # the top bar's link
    assert "style=" not in html.split("<svg", 1)[1]  # the CSP blocks style attributes
    download = admin.get(f"/desk/reports/backlog.csv?{PERIOD}&group={seeded.group}")
    assert download.get_data(as_text=True).splitlines()[1] == f"new,{seeded.group},1"
    with transaction(any_stack.sessions) as session:
        user = session.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        user.language = "cs"
    try:
        czech = admin.get(f"/desk/reports?{PERIOD}&group={seeded.group}").get_data(as_text=True)
    finally:
        with transaction(any_stack.sessions) as session:
            user = session.scalar(select(User).where(User.username == "admin"))
            assert user is not None
            user.language = "en"
    assert "Vytvořené a vyřešené požadavky po dnech" in czech
    assert "Tickets created and resolved per day" not in czech


def test_the_projection_keeps_when_a_ticket_was_resolved(any_stack: Stack) -> None:
    client, headers = any_stack.client(), any_stack.api()
    created = client.post(
        "/api/v1/tickets",
        json={"subject": "Resolve me", "body": "Hi", "customer": {"email": "r@example.org"}},
        headers=headers,
    )
    number = created.get_json()["number"]

    def act(name: str) -> None:
        response = client.post(
            f"/api/v1/tickets/{number}/actions/{name}", json={"fields": {}}, headers=headers
        )
        assert response.status_code == 200, response.get_json()

    def resolved_at() -> object:
        with any_stack.sessions() as session:
            return session.scalar(select(Ticket.resolved_at).where(Ticket.number == number))

    assert resolved_at() is None
    act("resolve")
    first = resolved_at()
    assert first is not None
    act("close")
    assert resolved_at() == first  # resolved, then closed: resolved once
    # A closed ticket does not reopen by an action; a resolved one does.
    created = client.post(
        "/api/v1/tickets",
        json={"subject": "Reopen me", "body": "Hi", "customer": {"email": "r@example.org"}},
        headers=headers,
    )
    number = created.get_json()["number"]
    act("resolve")
    assert resolved_at() is not None
    act("reopen")
    assert resolved_at() is None


def test_the_projection_keeps_when_a_ticket_was_first_answered(any_stack: Stack) -> None:
    client, headers = any_stack.client(), any_stack.api()
    created = client.post(
        "/api/v1/tickets",
        json={"subject": "Answer me", "body": "Hi", "customer": {"email": "f@example.org"}},
        headers=headers,
    )
    number = created.get_json()["number"]

    def first_response_at() -> object:
        with any_stack.sessions() as session:
            return session.scalar(select(Ticket.first_response_at).where(Ticket.number == number))

    def act(name: str, body: str) -> None:
        response = client.post(
            f"/api/v1/tickets/{number}/actions/{name}",
            json={"fields": {"body": body}},
            headers=headers,
        )
        assert response.status_code == 200, response.get_json()

    act("comment", "An internal note is no answer.")
    assert first_response_at() is None
    act("reply", "Here is our answer.")
    first = first_response_at()
    assert first is not None
    act("reply", "And a second one.")
    assert first_response_at() == first
