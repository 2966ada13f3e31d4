"""Merging tickets through the REST API, end to end (Flask, the facade, a real worker,
Temporal, PostgreSQL): the merged ticket's messages show on the survivor, nothing lost and
nothing twice; it ends in the state "merged" with a pointer; mail to it follows the pointer."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from tempodesk.core.models import Message
from tests.helpers import Stack
from tests.web.test_inbound_email import mail, post, someone, ticket


def merge(stack: Stack, number: str, into: str, **extra: Any) -> Any:
    return stack.client().post(
        f"/api/v1/tickets/{number}/merge", json={"into": into, **extra}, headers=stack.api()
    )


def until_absorbed(stack: Stack, number: str, merged: str) -> dict[str, Any]:
    for _ in range(200):
        current = ticket(stack, number)
        if any(e["kind"] == "merged_in" for e in current["events"]):
            return current
        time.sleep(0.05)
    raise AssertionError(f"{number} never took {merged}")


def post_ticket(stack: Stack, subject: str) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={"subject": subject, "body": "Hello.", "customer": {"email": someone()}},
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def two_tickets(stack: Stack) -> tuple[str, str, str]:
    sender = someone()
    goes = post(stack, mail(sender, body="The lid is cracked.\n")).get_json()["ticket"]
    stays = post(stack, mail(sender, body="It also leaks.\n")).get_json()["ticket"]
    return sender, goes, stays


def test_a_merged_tickets_messages_and_events_show_on_the_survivor(stack: Stack) -> None:
    _, goes, stays = two_tickets(stack)

    response = merge(stack, goes, stays)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["merged_into"] == stays
    merged = ticket(stack, goes)
    assert (merged["state"], merged["state_category"], merged["merged_into"]) == (
        "merged",
        "merged",
        stays,
    )
    assert merged["messages"] == []  # they moved
    survivor = until_absorbed(stack, stays, goes)
    bodies = sorted(
        m["body"].strip() for m in survivor["messages"] if m["sender_role"] == "customer"
    )
    assert bodies == ["It also leaks.", "The lid is cracked."]
    kinds = [e["kind"] for e in survivor["events"]]
    assert kinds.count("created") == 2 and "merged" in kinds and "merged_in" in kinds
    with stack.sessions() as session:
        counted = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.ticket_number.in_([goes, stays]))
            .where(Message.sender_role == "customer")
        )
    assert counted == 2  # nothing lost, nothing twice
    desk = stack.login("agent1")
    listed = desk.get(f"/desk/search?q={goes}")
    assert listed.status_code == 200 and goes in listed.get_data(as_text=True)
    page = desk.get(f"/desk/tickets/{goes}").get_data(as_text=True)
    assert f'id="merged-into">{stays}<' in page


def test_mail_to_a_merged_ticket_follows_to_the_survivor(stack: Stack) -> None:
    sender, goes, stays = two_tickets(stack)
    assert merge(stack, goes, stays).status_code == 200

    result = post(stack, mail(sender, subject=f"Re: [{goes}] kettle", body="Any news?\n"))

    assert result.get_json()["outcome"] == "follow_up"
    assert result.get_json()["ticket"] == stays
    for _ in range(200):
        bodies = [m["body"].strip() for m in ticket(stack, stays)["messages"]]
        if "Any news?" in bodies:
            break
        time.sleep(0.05)
    assert "Any news?" in bodies


def test_the_same_merge_request_twice_merges_once(stack: Stack) -> None:
    _, goes, stays = two_tickets(stack)
    first = merge(stack, goes, stays, request_id="same-merge")
    again = merge(stack, goes, stays, request_id="same-merge")
    assert first.status_code == again.status_code == 200
    assert again.get_json()["merged_into"] == stays
    survivor = until_absorbed(stack, stays, goes)
    assert [e["kind"] for e in survivor["events"]].count("merged_in") == 1


def test_a_merge_is_refused_with_reasons(stack: Stack) -> None:
    _, goes, stays = two_tickets(stack)
    assert merge(stack, goes, goes).status_code == 409
    assert merge(stack, goes, "HD-0000-NOPE").status_code == 409
    assert merge(stack, "HD-0000-NOPE", stays).status_code == 404
    missing = stack.client().post(f"/api/v1/tickets/{goes}/merge", json={}, headers=stack.api())
    assert missing.status_code == 422
    closed = stack.client().post(
        f"/api/v1/tickets/{stays}/actions/close_without_reply",
        json={"fields": {"reason": "no_action"}},
        headers=stack.api(),
    )
    assert closed.status_code == 200, closed.get_json()
    refused = merge(stack, goes, stays)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "merge_refused"
    assert ticket(stack, goes)["merged_into"] is None
