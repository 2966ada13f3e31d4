"""The composer in a real browser: a canned answer inserted at the cursor, a draft that
survives a reload, the reply sent. Screenshots land in test-results/screenshots/composer-*."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Page, expect

from tempodesk.core.db import transaction
from tempodesk.core.models import CannedAnswer
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack


def test_agent_inserts_a_canned_answer_and_replies(
    page: Page, live_url: str, stack: Stack, sink: Any
) -> None:
    title = f"Kettle on its way {uuid.uuid4().hex[:6]}"
    with transaction(stack.sessions) as session:
        session.add(
            CannedAnswer(
                title=title,
                body="Hello {{ customer.name }}, a new kettle for {{ ticket.number }} "
                "leaves our warehouse today.",
                updated_by="tests",
            )
        )
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Kettle does not heat",
            "body": "It stopped heating after a week.",
            "customer": {"email": "jana.novakova@example.com", "name": "Jana Nováková"},
            "order_number": "ORD-1001",
        },
        headers=stack.api(),
    )
    number = response.get_json()["number"]
    expected = (
        f"Dear Jana,\n\nHello Jana Nováková, a new kettle for {number} leaves our warehouse today."
    )

    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")
    expect(page.locator("#ticket-state")).to_have_text("New")
    page.locator("summary", has_text="Reply").first.click()
    reply = page.locator("#action-reply")
    expect(reply.get_by_text("Sent to jana.novakova@example.com")).to_be_visible()
    text = reply.get_by_label("Reply to the customer")
    text.fill("Dear Jana,\n\n")
    reply.get_by_label("Canned answers").select_option(label=title)
    reply.get_by_role("button", name="Insert").click()
    expect(text).to_have_value(expected)
    expect(reply.locator("[data-draft-status]")).to_have_text("Draft saved.")
    shot(page, "composer-canned-inserted")

    page.reload()  # the draft survives: the form opens again with the text
    expect(text).to_be_visible()
    expect(text).to_have_value(expected)
    expect(reply.get_by_role("button", name="Discard draft")).to_be_visible()
    shot(page, "composer-draft-restored")

    reply.get_by_role("button", name="Reply", exact=True).click()
    expect(page.locator("#ticket-state")).to_have_text("Waiting for customer")
    expect(page.locator(".timeline").get_by_text("a new kettle for")).to_be_visible()
    expect(page.locator("#action-reply textarea")).to_have_value("")  # the draft is gone
    shot(page, "composer-after-reply")
    [mail] = sink.wait_for(1)
    assert f"a new kettle for {number}" in mail.text()
