"""Admin: moving open tickets to a newer process version, through the UI, end to end."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from typing import Any

from markupsafe import escape
from sqlalchemy import func, select

from tempodesk.core.db import transaction
from tempodesk.core.models import ProcessMigration
from tempodesk.tickets import migration as process_migration
from tempodesk.tickets import processes
from tests.helpers import GUARDED_PROCESS, Stack, csrf_token

# Version 2 renames the state "escalated" to "review", relabels "escalate" and adds "reopen".
VERSION_2 = """
name: {name}
label: Guarded support, second edition
initial: new
states:
  new:
    label: New
    category: new
    actions: [reply, comment, close, escalate]
  review:
    label: In review
    category: open
    visible_to: [Billing]
    actions: [comment, close, reopen]
  closed:
    label: Closed
    category: closed
actions:
  reply:
    label: Reply
    target: stay
    fields:
      - {{id: body, type: longtext, label: Reply, required: true}}
    effects:
      - {{type: send_email, body_field: body}}
  comment:
    label: Internal note
    target: stay
    fields:
      - {{id: body, type: longtext, label: Note, required: true}}
    effects:
      - {{type: add_note, body_field: body}}
  escalate:
    label: Send to review
    target: review
  reopen:
    label: Reopen
    target: new
  close:
    label: Close
    target: closed
    groups: [Billing]
"""


def _process(stack: Stack) -> str:
    """A fresh copy of the "guarded" process (v1) under its own name."""
    name = f"mig_{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        processes.publish(session, GUARDED_PROCESS.replace("name: guarded", f"name: {name}"))
    return name


def _publish_v2(stack: Stack, name: str) -> None:
    with transaction(stack.sessions) as session:
        assert processes.publish(session, VERSION_2.format(name=name), author="tests").version == 2


def _ticket(stack: Stack, process: str, subject: str) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": subject,
            "body": "Please help.",
            "process": process,
            "customer": {"email": "migrating@example.com"},
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    number: str = response.get_json()["number"]
    return number


def _act(stack: Stack, number: str, action: str) -> None:
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/{action}", json={}, headers=stack.api()
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def _detail(stack: Stack, number: str) -> dict[str, Any]:
    data: dict[str, Any] = (
        stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    )
    return data


def _actions(stack: Stack, number: str) -> dict[str, str]:
    response = stack.client().get(f"/api/v1/tickets/{number}/actions", headers=stack.api())
    return {a["name"]: a["label"] for a in response.get_json()}


def _finished(stack: Stack, migration_id: int, timeout: float = 30.0) -> ProcessMigration:
    deadline = time.monotonic() + timeout
    while True:
        with stack.sessions() as session:
            migration = process_migration.report(session, migration_id)
            assert migration is not None
            if migration.status == "done":
                return migration
        assert time.monotonic() < deadline, "the migration did not finish in time"
        time.sleep(0.3)


def _wait_closed(stack: Stack, number: str, timeout: float = 30.0) -> None:
    """Until the ticket's workflow has completed (a closed ticket's workflow ends)."""
    from temporalio.client import Client, WorkflowExecutionStatus

    async def wait() -> None:
        client = await Client.connect(
            stack.settings.temporal_target, namespace=stack.settings.temporal_namespace
        )
        handle = client.get_workflow_handle(f"ticket-{number}")
        deadline = time.monotonic() + timeout
        while (await handle.describe()).status != WorkflowExecutionStatus.COMPLETED:
            assert time.monotonic() < deadline, "the ticket's workflow did not complete"
            await asyncio.sleep(0.2)

    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(wait())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout + 10)
    assert not errors, errors


def _migrations_of(stack: Stack, name: str) -> int:
    with stack.sessions() as session:
        count: int = session.scalar(
            select(func.count())
            .select_from(ProcessMigration)
            .where(ProcessMigration.process_name == name)
        )
    return count


def test_open_tickets_move_to_a_new_version_with_a_state_map_through_the_ui(
    stack: Stack,
) -> None:
    name = _process(stack)
    waiting = _ticket(stack, name, "Still new")
    escalated = _ticket(stack, name, "Escalated before v2")
    _act(stack, escalated, "escalate")
    _publish_v2(stack, name)

    # Until migrated, tickets keep the version they started with.
    assert _detail(stack, waiting)["process"] == {"name": name, "version": 1}
    assert _actions(stack, waiting)["escalate"] == "Escalate"
    assert set(_actions(stack, escalated)) == {"comment", "close"}

    client = stack.login("admin")
    page = client.get(f"/admin/processes/{name}/migrate")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Open tickets on other versions than v2: 2" in html
    assert 'name="map-escalated"' in html
    assert 'name="map-new"' not in html  # "new" exists in v2: no decision needed
    choices = re.findall(r'<option value="(\w+)"', html[html.index('name="map-escalated"') :])
    assert choices[:2] == ["new", "review"] and "closed" not in choices

    response = client.post(
        f"/admin/processes/{name}/migrate",
        data={"csrf_token": csrf_token(html), "version": "2", "map-escalated": "review"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    migration_id = int(location.rsplit("/", 1)[1])
    assert location.endswith(f"/admin/migrations/{migration_id}")

    migration = _finished(stack, migration_id)
    assert migration.state_map == {"escalated": "review"}
    assert migration.created_by == "admin" and migration.finished_at is not None
    report = {
        i.ticket_number: (i.from_version, i.from_state, i.to_state, i.status)
        for i in migration.items
    }
    assert report == {
        waiting: (1, "new", "new", "migrated"),
        escalated: (1, "escalated", "review", "migrated"),
    }

    for number, state in ((waiting, "new"), (escalated, "review")):
        detail = _detail(stack, number)
        assert detail["process"] == {"name": name, "version": 2}
        assert detail["state"] == state
        migrated = [e for e in detail["events"] if e["kind"] == "migrated"]
        assert len(migrated) == 1
        assert migrated[0]["actor"] == "admin"
        assert migrated[0]["data"]["from_version"] == 1
        assert migrated[0]["data"]["to_version"] == 2
        assert migrated[0]["data"]["migration"] == migration_id
    assert _actions(stack, waiting)["escalate"] == "Send to review"
    assert set(_actions(stack, escalated)) == {"comment", "close", "reopen"}

    report_page = client.get(location).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in report_page  # done: no more reloading
    assert f'href="/desk/tickets/{escalated}"' in report_page
    assert re.search(r'id="count-migrated">2<', report_page)
    assert "v1 &#39;escalated&#39; → v2 &#39;review&#39;" in report_page
    listing = client.get("/admin/migrations").get_data(as_text=True)
    assert f'href="/admin/migrations/{migration_id}"' in listing

    # Nothing is left to move.
    again = client.get(f"/admin/processes/{name}/migrate").get_data(as_text=True)
    assert "No open ticket of this process is on another version than v2." in again


def test_a_map_to_an_unknown_or_final_state_is_refused_with_its_reason(stack: Stack) -> None:
    name = _process(stack)
    number = _ticket(stack, name, "Escalated")
    _act(stack, number, "escalate")
    _publish_v2(stack, name)
    client = stack.login("admin")
    url = f"/admin/processes/{name}/migrate"

    for chosen, message in (
        ("nowhere", "'escalated' is mapped to 'nowhere', which version 2 does not have."),
        ("closed", "'escalated' is mapped to the final state 'closed'."),
        ("", "Choose a state of version 2 for 'escalated'."),
    ):
        token = csrf_token(client.get(url).get_data(as_text=True))
        response = client.post(
            url, data={"csrf_token": token, "version": "2", "map-escalated": chosen}
        )
        assert response.status_code == 422
        assert str(escape(message)) in response.get_data(as_text=True)
    assert _migrations_of(stack, name) == 0
    assert _detail(stack, number)["process"]["version"] == 1


def test_the_running_report_reloads_itself_until_done(stack: Stack) -> None:
    name = _process(stack)
    number = _ticket(stack, name, "Waiting")
    _publish_v2(stack, name)
    with transaction(stack.sessions) as session:
        migration_id = process_migration.plan(session, name, 2, {}, "admin").id
    page = stack.login("admin").get(f"/admin/migrations/{migration_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Running" in page and "pending" in page and number in page

    stack.runtime.temporal.start_migration(migration_id)
    assert [i.status for i in _finished(stack, migration_id).items] == ["migrated"]


def test_tickets_the_workflow_refuses_are_reported_rejected_with_the_reason(
    stack: Stack,
) -> None:
    name = _process(stack)
    kept = _ticket(stack, name, "Planned by an agent")
    closing = _ticket(stack, name, "Closed after planning")
    _publish_v2(stack, name)

    # Each ticket's workflow re-checks the actor: a plan recorded for a non-admin is refused.
    with transaction(stack.sessions) as session:
        by_agent = process_migration.plan(session, name, 2, {}, "agent1").id
    stack.runtime.temporal.start_migration(by_agent)
    refused = _finished(stack, by_agent)
    assert {(i.status, i.message) for i in refused.items} == {
        ("rejected", "Only admins may migrate tickets.")
    }
    assert _detail(stack, kept)["process"]["version"] == 1

    # A ticket closed between planning and running is reported, not migrated.
    with transaction(stack.sessions) as session:
        planned = process_migration.plan(session, name, 2, {}, "admin").id
    _act(stack, closing, "close")
    _wait_closed(stack, closing)
    stack.runtime.temporal.start_migration(planned)
    result = {i.ticket_number: (i.status, i.message) for i in _finished(stack, planned).items}
    assert result[kept][0] == "migrated"
    assert result[closing] == ("rejected", "The ticket was closed meanwhile.")
    page = stack.login("admin").get(f"/admin/migrations/{planned}").get_data(as_text=True)
    assert "The ticket was closed meanwhile." in page


def test_agents_may_not_open_the_migration_pages(stack: Stack) -> None:
    client = stack.login("agent1")
    assert client.get("/admin/processes/guarded/migrate").status_code == 403
    assert client.get("/admin/migrations").status_code == 403
    token = csrf_token(client.get("/desk/").get_data(as_text=True))
    response = client.post(
        "/admin/processes/guarded/migrate", data={"csrf_token": token, "version": "1"}
    )
    assert response.status_code == 403
