"""The desk and the public form in a real browser (Debian's Chromium driven by Playwright).

Screenshots of the main pages land in test-results/ as artifacts.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack


def test_customer_files_a_request_and_an_agent_answers_it(
    page: Page, live_url: str, stack: Stack, sink: Any
) -> None:
    page.goto(f"{live_url}/support/new")
    shot(page, "public-form")
    page.get_by_label("Your name").fill("Jana Nováková")
    page.get_by_label("Your email address").fill("jana.novakova@example.com")
    page.get_by_label("Subject").fill("Kettle stopped heating")
    page.get_by_label("Order number (optional)").fill("ORD-1001")
    page.get_by_label("How can we help?").fill("After one week it does not heat any more.")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading")).to_contain_text("we have your request")
    number = page.locator(".ticket-number").inner_text()
    shot(page, "public-form-submitted")

    sign_in(page, live_url, stack, "agent1")
    expect(page.get_by_role("link", name=number).first).to_be_visible()
    shot(page, "desk-list")
    page.get_by_role("link", name=number).first.click()
    expect(page.locator("#ticket-state")).to_have_text("New")
    expect(page.get_by_role("heading", name="Order ORD-1001")).to_be_visible()
    shot(page, "ticket-page")

    page.locator("summary", has_text="Reply").first.click()
    page.get_by_label("Reply to the customer").fill("We are sending you a new kettle today.")
    shot(page, "reply-form")
    page.get_by_role("button", name="Reply").click()
    expect(page.locator("#ticket-state")).to_have_text("Waiting for customer")
    expect(page.get_by_text("We are sending you a new kettle today.")).to_be_visible()
    [mail] = sink.wait_for(1)
    assert "new kettle" in mail.text()
    page.reload()
    expect(page.get_by_text(re.compile("Email sent to jana.novakova@example.com"))).to_be_visible()
    shot(page, "ticket-after-reply")


def test_confirmation_question_guards_mark_as_spam(page: Page, live_url: str, stack: Stack) -> None:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Cheap watches",
            "body": "Buy now",
            "customer": {"email": "spam@example.net"},
        },
        headers=stack.api(),
    )
    number = response.get_json()["number"]
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")
    page.locator("summary", has_text="Mark as spam").click()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Mark as spam").click()
    expect(page.locator("#ticket-state")).to_have_text("New")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Mark as spam").click()
    expect(page.locator("#ticket-state")).to_have_text("Spam")
