"""A customer presses an action the process marks for customers ("close my request") from the
portal: it goes through the workflow as a customer, and nothing else can be pressed."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tempodesk.contracts import Actor, PerformActionInput
from tempodesk.core.temporal import ActionRejected
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import create, eventually, portal_client, unique_email


def answered(stack: Stack, email: str) -> str:
    """A request the desk has answered: waiting for the customer, where "close" is offered."""
    number = create(stack, email)
    done = stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Try descaling it."}},
        headers=stack.api(),
    )
    assert done.status_code == 200, done.get_json()
    return number


def state_of(stack: Stack, number: str) -> str:
    detail = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api())
    state: str = detail.get_json()["state"]
    return state


def press(client: FlaskClient, number: str, action: str, token: str, state: str = "") -> Any:
    return client.post(
        f"/portal/tickets/{number}/actions/{action}",
        data={"csrf_token": token, "state": state},
    )


def test_the_customer_closes_their_request_and_the_desk_shows_it_closed(stack: Stack) -> None:
    email = unique_email()
    number = answered(stack, email)
    client = portal_client(stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    assert f"/portal/tickets/{number}/actions/close" in page
    assert "/actions/reply" not in page and "/actions/resolve" not in page
    closed = press(client, number, "close", csrf_token(page), "waiting_for_customer")
    assert closed.status_code == 303
    eventually(lambda: state_of(stack, number) == "closed")
    after = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    assert "/actions/close" not in after and "Closed" in after
    detail = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    [closing] = [e for e in detail["events"] if e.get("action") == "close"]
    assert closing["actor"] == email and closing["to_state"] == "closed"  # the customer did
    desk = stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "Closed" in desk


def test_a_forged_post_of_any_other_action_is_refused(stack: Stack) -> None:
    email = unique_email()
    number = answered(stack, email)
    client = portal_client(stack, email)
    token = csrf_token(client.get(f"/portal/tickets/{number}").get_data(as_text=True))
    for action in ("reply", "resolve", "mark_spam", "close_no_answer", "comment", "no_such"):
        assert press(client, number, action, token).status_code == 403, action
    assert press(client, number, "close", "").status_code == 400  # no CSRF token
    assert state_of(stack, number) == "waiting_for_customer"


def test_another_customers_request_cannot_be_closed(stack: Stack) -> None:
    mine, theirs = unique_email(), unique_email()
    answered(stack, mine)
    other = answered(stack, theirs)
    client = portal_client(stack, mine)
    token = csrf_token(client.get("/portal/tickets").get_data(as_text=True))
    assert press(client, other, "close", token).status_code == 404
    assert press(client, "NO-SUCH-1", "close", token).status_code == 404
    assert state_of(stack, other) == "waiting_for_customer"


def test_a_stale_page_does_not_close_a_request_that_moved(stack: Stack) -> None:
    email = unique_email()
    number = answered(stack, email)
    client = portal_client(stack, email)
    token = csrf_token(client.get(f"/portal/tickets/{number}").get_data(as_text=True))
    resolved = stack.client().post(
        f"/api/v1/tickets/{number}/actions/resolve", json={"fields": {}}, headers=stack.api()
    )
    assert resolved.status_code == 200, resolved.get_json()
    stale = press(client, number, "close", token, "waiting_for_customer")
    assert stale.status_code == 303
    assert state_of(stack, number) == "resolved"


def test_the_workflow_refuses_a_customer_actor_any_action_not_marked_for_customers(
    stack: Stack,
) -> None:
    """Straight to the workflow's Update, past the web: its validator applies the same rule."""
    email = unique_email()
    number = answered(stack, email)
    customer = Actor(username=email, kind="customer", is_admin=True)
    for action in ("resolve", "reply", "close_no_answer"):
        with pytest.raises(ActionRejected) as refused:
            stack.runtime.temporal.perform_action(number, PerformActionInput(action, customer))
        assert refused.value.code == "forbidden", action
    stranger = Actor(username=unique_email(), kind="customer")  # someone else's request
    with pytest.raises(ActionRejected) as refused:
        stack.runtime.temporal.perform_action(number, PerformActionInput("close", stranger))
    assert refused.value.code == "forbidden"
    assert state_of(stack, number) == "waiting_for_customer"
    stack.runtime.temporal.perform_action(number, PerformActionInput("close", customer))
    assert state_of(stack, number) == "closed"
