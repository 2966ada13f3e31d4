"""REST API v1 end to end: Flask, the facade, a real worker, Temporal and the database."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy import func, select
from temporalio.client import Client

from tempodesk.core.models import Message, Ticket
from tempodesk.core.temporal import EngineUnavailable
from tests.helpers import Stack


def create(stack: Stack, **overrides: Any) -> Any:
    body: dict[str, Any] = {
        "subject": "Broken kettle",
        "body": "It stopped heating after a week.",
        "customer": {"email": "jana.novakova@example.com", "name": "Jana"},
    }
    body.update(overrides)
    return stack.client().post("/api/v1/tickets", json=body, headers=stack.api())


def test_ticket_created_through_the_api_is_readable_at_once(any_stack: Stack) -> None:
    response = create(any_stack, order_number="ORD-1001")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert set(created) == {"number", "workflow_id", "state", "url"}
    assert created["workflow_id"] == f"ticket-{created['number']}" and created["state"] == "new"
    detail = any_stack.client().get(f"/api/v1/tickets/{created['number']}", headers=any_stack.api())
    assert detail.status_code == 200
    ticket = detail.get_json()
    assert ticket["state"] == "new" and ticket["state_label"] == "New"
    assert ticket["assignee"] == "agent1" and ticket["group"] == "Support"
    assert ticket["customer"]["email"] == "jana.novakova@example.com"
    assert ticket["order"]["number"] == "ORD-1001"
    assert [m["body"] for m in ticket["messages"]] == ["It stopped heating after a week."]
    assert [e["kind"] for e in ticket["events"]] == ["created"]


def test_ticket_numbers_follow_the_configured_template(stack: Stack) -> None:
    number = create(stack).get_json()["number"]
    year = time.gmtime().tm_year
    assert number.startswith(f"HD-{year}-") and len(number.split("-")[-1]) == 6


def test_same_idempotency_key_returns_the_same_ticket_and_stores_one_message(stack: Stack) -> None:
    key = f"retry-{uuid.uuid4()}"
    first = create(stack, idempotency_key=key)
    second = create(stack, idempotency_key=key)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    number = first.get_json()["number"]
    assert second.get_json()["number"] == number
    with stack.sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(Ticket).where(Ticket.number == number))
            == 1
        )
        assert (
            session.scalar(
                select(func.count()).select_from(Message).where(Message.ticket_number == number)
            )
            == 1
        )


def test_concurrent_retries_with_one_key_make_one_ticket(stack: Stack) -> None:
    from concurrent.futures import ThreadPoolExecutor

    key = f"burst-{uuid.uuid4()}"
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: create(stack, idempotency_key=key), range(4)))
    numbers = {r.get_json()["number"] for r in responses}
    assert all(r.status_code == 201 for r in responses) and len(numbers) == 1


def test_created_ticket_is_listed_in_temporal_with_its_search_attributes(stack: Stack) -> None:
    number = create(stack, customer={"email": "petr@acme.example"}).get_json()["number"]

    async def find() -> list[Any]:
        client = await Client.connect(stack.settings.temporal_target, namespace="default")
        query = (
            f"TicketNumber = '{number}' AND TicketState = 'new' "
            "AND CustomerEmail = 'petr@acme.example'"
        )
        for _ in range(100):
            found = [w async for w in client.list_workflows(query)]
            if found:
                return found
            await asyncio.sleep(0.1)
        return []

    [workflow] = asyncio.run(find())
    assert workflow.id == f"ticket-{number}"


def test_list_is_keyset_paginated_newest_first(stack: Stack) -> None:
    for i in range(3):
        create(stack, subject=f"page test {i}")
    client = stack.client()
    first = client.get("/api/v1/tickets?limit=2", headers=stack.api()).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(
        f"/api/v1/tickets?limit=2&cursor={first['next_cursor']}", headers=stack.api()
    ).get_json()
    numbers = [t["number"] for t in first["items"] + second["items"]]
    assert len(numbers) == len(set(numbers))
    assert numbers == sorted(numbers, reverse=True)


def test_list_filters_by_state_and_assignee(stack: Stack) -> None:
    number = create(stack, customer={"email": "petr@acme.example"}).get_json()["number"]
    items = (
        stack.client()
        .get("/api/v1/tickets?state=new&assignee=agent2&limit=200", headers=stack.api())
        .get_json()["items"]
    )
    assert number in [t["number"] for t in items]
    assert all(t["state"] == "new" and t["assignee"] == "agent2" for t in items)


def test_actions_lists_only_what_the_caller_may_do_now(stack: Stack) -> None:
    number = create(stack).get_json()["number"]
    actions = (
        stack.client().get(f"/api/v1/tickets/{number}/actions", headers=stack.api()).get_json()
    )
    names = [a["name"] for a in actions]
    assert names[:3] == ["reply", "comment", "assign"] and "reopen" not in names
    reply = actions[0]
    assert reply["fields"][0] == {
        "name": "body",
        "type": "longtext",
        "label": "Reply to the customer",
        "required": True,
        "choices": None,
    }


def test_posting_an_action_moves_the_ticket_and_returns_it(stack: Stack, sink: Any) -> None:
    number = create(stack).get_json()["number"]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Please send us a photo of the label."}},
        headers=stack.api(),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "waiting_for_customer"
    assert body["ticket"]["state"] == "waiting_for_customer"
    reply = body["ticket"]["messages"][-1]
    assert (
        reply["sender_role"] == "agent" and reply["body"] == "Please send us a photo of the label."
    )
    [mail] = sink.wait_for(1)
    assert mail.recipients == ["jana.novakova@example.com"]
    assert mail.message["X-Tempodesk-Ticket"] == number


def test_customer_message_through_the_api_reopens_a_waiting_ticket(stack: Stack, sink: Any) -> None:
    number = create(stack).get_json()["number"]
    client = stack.client()
    client.post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Photo?"}},
        headers=stack.api(),
    )
    response = client.post(
        f"/api/v1/tickets/{number}/messages",
        json={"body": "Here it is.", "author": "jana.novakova@example.com"},
        headers=stack.api(),
    )
    assert response.status_code == 202
    for _ in range(100):
        ticket = client.get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
        if ticket["state"] == "open":
            break
        time.sleep(0.05)
    assert ticket["state"] == "open"
    assert ticket["messages"][-1]["body"] == "Here it is."


# ------------------------------------------------------------------ bad input


def test_unknown_action_is_409(stack: Stack) -> None:
    number = create(stack).get_json()["number"]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/teleport", json={"fields": {}}, headers=stack.api()
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_available"


def test_action_not_available_in_this_state_is_409(stack: Stack) -> None:
    number = create(stack).get_json()["number"]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/reopen", json={}, headers=stack.api()
    )
    assert response.status_code == 409
    assert "not available while the ticket is 'New'" in response.get_json()["error"]["message"]


def test_missing_field_is_422_with_the_field_error(stack: Stack) -> None:
    number = create(stack).get_json()["number"]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply", json={"fields": {}}, headers=stack.api()
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"body": "This field is required."}


def test_unknown_agent_in_an_assign_is_422(stack: Stack) -> None:
    number = create(stack).get_json()["number"]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/assign",
        json={"fields": {"agent": "ghost"}},
        headers=stack.api(),
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"agent": "There is no active agent 'ghost'."}


def test_action_restricted_to_another_group_is_403_and_leaves_the_ticket(stack: Stack) -> None:
    number = create(stack, channel="phone", customer={"phone": "+420 777 000 111"}).get_json()[
        "number"
    ]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/close", json={}, headers=stack.api("agent1")
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    ticket = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api("agent1")).get_json()
    assert ticket["state"] == "new" and len(ticket["events"]) == 1


def test_unknown_or_invisible_ticket_is_404(stack: Stack) -> None:
    response = stack.client().get("/api/v1/tickets/HD-1999-999999", headers=stack.api())
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    number = create(stack, channel="phone", customer={"phone": "+420 777 000 222"}).get_json()[
        "number"
    ]
    stack.client().post(f"/api/v1/tickets/{number}/actions/escalate", json={}, headers=stack.api())
    hidden = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api("agent1"))
    assert hidden.status_code == 404
    visible = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api("agent2"))
    assert visible.status_code == 200
    listed = stack.client().get("/api/v1/tickets?limit=200", headers=stack.api("agent1")).get_json()
    assert number not in [t["number"] for t in listed["items"]]


def test_missing_or_bad_token_is_401(stack: Stack) -> None:
    client = stack.client()
    assert client.get("/api/v1/tickets").status_code == 401
    bad = client.get("/api/v1/tickets", headers={"Authorization": "Bearer td_not-a-token"})
    assert bad.status_code == 401
    assert bad.get_json() == {
        "error": {"code": "unauthorized", "message": "The API token is not valid."}
    }


def test_invalid_ticket_input_is_422_and_creates_nothing(stack: Stack) -> None:
    with stack.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Message))
    response = create(stack, subject="", customer={"email": "not-an-address"})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields == {"subject": "Enter a subject.", "email": "Enter a valid email address."}
    with stack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == before


def test_oversized_body_is_413_in_json(stack: Stack) -> None:
    huge = "x" * (stack.settings.max_request_bytes + 10)
    response = create(stack, body=huge)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_long_message_under_the_request_limit_is_422(stack: Stack) -> None:
    response = create(stack, body="y" * (stack.settings.max_message_chars + 1))
    assert response.status_code == 422
    assert "body" in response.get_json()["error"]["fields"]


def test_malformed_json_is_400(stack: Stack) -> None:
    response = stack.client().post(
        "/api/v1/tickets",
        data="{not json",
        headers={**stack.api(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_bad_cursor_is_400(stack: Stack) -> None:
    response = stack.client().get("/api/v1/tickets?cursor=%%%", headers=stack.api())
    assert response.status_code == 400


def test_more_concurrent_creations_than_pooled_connections_all_succeed(stack: Stack) -> None:
    """A request never holds a database connection while it waits for its workflow."""
    from concurrent.futures import ThreadPoolExecutor

    from tempodesk.app.runtime import Runtime
    from tempodesk.core.db import make_engine
    from web import create_app

    runtime = Runtime(stack.settings)
    runtime.__dict__["db"] = make_engine(
        stack.settings.db_url, pool_size=2, max_overflow=0, pool_timeout=5
    )
    app = create_app({"TESTING": True}, runtime=runtime)
    headers = stack.api()

    def post(i: int) -> int:
        return (
            app.test_client()
            .post(
                "/api/v1/tickets",
                json={"subject": f"crowd {i}", "body": "b", "customer": {"email": "c@example.org"}},
                headers=headers,
            )
            .status_code
        )

    try:
        with ThreadPoolExecutor(8) as executor:
            statuses = list(executor.map(post, range(8)))
    finally:
        runtime.close()
    assert statuses == [201] * 8


# ------------------------------------------------------------------ processes (issue 3)


def test_processes_are_listed_with_their_versions(stack: Stack) -> None:
    listed = stack.client().get("/api/v1/processes", headers=stack.api()).get_json()
    by_name = {p["name"]: p for p in listed}
    assert by_name["support"]["label"] == "Customer support"
    assert by_name["returns"]["latest_version"] >= 1
    assert by_name["support"]["versions"][0]["version"] == by_name["support"]["latest_version"]


def test_a_request_may_name_its_process(any_stack: Stack) -> None:
    number = create(any_stack, process="returns").get_json()["number"]
    ticket = any_stack.client().get(f"/api/v1/tickets/{number}", headers=any_stack.api()).get_json()
    assert ticket["process"]["name"] == "returns"
    actions = any_stack.client().get(f"/api/v1/tickets/{number}/actions", headers=any_stack.api())
    assert [a["name"] for a in actions.get_json()][:2] == ["request_parcel", "parcel_received"]


def test_an_unknown_process_is_422_and_creates_nothing(stack: Stack) -> None:
    with stack.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Message))
    response = create(stack, process="teleportation")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "process": "There is no process 'teleportation'."
    }
    with stack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == before


def test_fields_stored_by_actions_are_searchable(any_stack: Stack) -> None:
    number = create(any_stack).get_json()["number"]
    other = create(any_stack).get_json()["number"]
    response = any_stack.client().post(
        f"/api/v1/tickets/{number}/actions/categorise",
        json={"fields": {"type": "complaint"}},
        headers=any_stack.api(),
    )
    assert response.status_code == 200
    assert response.get_json()["ticket"]["fields"] == {"type": "complaint"}
    found = (
        any_stack.client()
        .get("/api/v1/tickets?field.type=complaint&limit=200", headers=any_stack.api())
        .get_json()["items"]
    )
    numbers = [t["number"] for t in found]
    assert number in numbers and other not in numbers


def test_assigning_mails_the_new_assignee(stack: Stack, sink: Any) -> None:
    number = create(stack).get_json()["number"]
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/assign",
        json={"fields": {"agent": "agent2"}},
        headers=stack.api("agent1"),
    )
    assert response.status_code == 200
    [mail] = sink.wait_for(1)
    assert mail.recipients == ["agent2@tempodesk.localhost"]
    assert mail.subject.startswith(f"[{number}] Assigned to you")
    for _ in range(100):
        ticket = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
        if ticket["events"][-1]["kind"] == "template_sent":
            break
        time.sleep(0.05)
    assert ticket["events"][-1]["data"]["to"] == "agent2@tempodesk.localhost"


# ------------------------------------------------------------------ outcome unknown


def test_an_action_whose_answer_was_lost_is_503_with_a_request_id_that_makes_the_retry_safe(
    stack: Stack, monkeypatch: Any
) -> None:
    number = create(stack).get_json()["number"]
    real = stack.runtime.temporal.perform_action

    def accepted_then_lost(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # the workflow performed it; the answer never came back
        raise EngineUnavailable("The ticket engine did not answer in time.")

    monkeypatch.setattr(stack.runtime.temporal, "perform_action", accepted_then_lost)
    note = {"fields": {"body": f"Checked the label {uuid.uuid4()}"}}
    url = f"/api/v1/tickets/{number}/actions/comment"
    lost = stack.client().post(url, json=note, headers=stack.api())
    assert lost.status_code == 503 and lost.headers["Retry-After"]
    error = lost.get_json()["error"]
    assert error["code"] == "engine_unavailable" and error["request_id"]
    monkeypatch.undo()
    retried = stack.client().post(
        url, json={**note, "request_id": error["request_id"]}, headers=stack.api()
    )
    assert retried.status_code == 200, retried.get_json()
    with stack.sessions() as session:
        notes = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.ticket_number == number)
            .where(Message.body == note["fields"]["body"])
            .where(Message.attached.is_(True))
        )
    assert notes == 1


def test_a_message_to_a_closed_ticket_still_sending_its_last_mail_is_refused_as_closed(
    stack: Stack, sink: Any
) -> None:
    number = create(stack).get_json()["number"]
    client = stack.client()
    sink.delay = 2.0  # the reply leaves slowly: the closed ticket's run is still busy
    url = f"/api/v1/tickets/{number}"
    replied = client.post(
        f"{url}/actions/reply", json={"fields": {"body": "Reset it."}}, headers=stack.api()
    )
    assert replied.status_code == 200
    assert client.post(f"{url}/actions/close", json={}, headers=stack.api()).status_code == 200
    late = client.post(
        f"{url}/messages",
        json={"body": "One more thing.", "author": "jana.novakova@example.com"},
        headers=stack.api(),
    )
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "closed"
    with stack.sessions() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.ticket_number == number)
            .where(Message.body == "One more thing.")
        )
    assert stored == 0
    # The reply still leaves (and must not land in the next test's sink).
    for _ in range(300):
        sent = [m for m in list(sink.caught) if m.message["X-Tempodesk-Ticket"] == number]
        if sent:
            break
        time.sleep(0.05)
    assert [m.text().strip() for m in sent] == ["Reset it."]
