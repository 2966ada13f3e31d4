"""The knowledge base in a real browser: a customer searches the help centre and is offered
articles while typing a request; an agent inserts an article into a reply and sends it.
Screenshots land in test-results/screenshots/kb-*."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack


def test_customer_searches_the_help_centre_and_votes(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/help/")
    expect(page.get_by_role("heading", name="Orders and returns")).to_be_visible()
    page.get_by_role("searchbox", name="Search the help centre").fill("kettle heat")
    page.get_by_role("button", name="Search").first.click()
    expect(page.get_by_role("heading", name="Search results for “kettle heat”")).to_be_visible()
    expect(page.get_by_text("Refunds over 500 EUR")).to_have_count(0)
    page.get_by_role("link", name="My kettle does not heat").click()
    expect(page.get_by_role("heading", name="My kettle does not heat")).to_be_visible()
    expect(page.locator(".help-article-body")).to_contain_text("Descale the kettle")
    shot(page, "kb-article")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Thank you for your feedback.").first).to_be_visible()


def test_the_request_form_suggests_articles_while_the_customer_types(
    page: Page, live_url: str
) -> None:
    page.goto(f"{live_url}/support/new")
    page.get_by_label("How can we help?").press_sequentially("My kettle does not heat any more")
    suggestion = page.locator(".kb-suggest").get_by_role("link", name="My kettle does not heat")
    expect(suggestion).to_be_visible()
    expect(suggestion).to_have_attribute("href", "/help/en/my-kettle-does-not-heat")
    shot(page, "kb-suggestions")


def test_agent_inserts_an_article_into_a_reply_and_sends_it(
    page: Page, live_url: str, stack: Stack, sink: Any
) -> None:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "How do I send the kettle back?",
            "body": "I want to return it.",
            "customer": {"email": "jana.novakova@example.com", "name": "Jana Nováková"},
        },
        headers=stack.api(),
    )
    number = response.get_json()["number"]
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")
    page.locator("summary", has_text="Reply").first.click()
    reply = page.locator("#action-reply")
    text = reply.get_by_label("Reply to the customer")
    text.fill("Dear Jana,\n\n")
    reply.get_by_placeholder("Filter the texts…").fill("return goods")
    reply.get_by_label("Canned answers").select_option(
        label="How do I return goods? (en) \u2013 insert text"
    )
    reply.get_by_role("button", name="Insert").click()
    expect(text).to_have_value(
        "Dear Jana,\n\nYou may return goods within 30 days of delivery.\n\n"
        "- Write to us with your order number.\n- Pack the goods with the delivery note.\n"
        "- Send the parcel to the address in our answer.\n\n"
        "We refund the price within 14 days of receiving the parcel."
    )
    shot(page, "kb-inserted")
    reply.get_by_role("button", name="Reply", exact=True).click()
    expect(page.locator("#ticket-state")).to_have_text("Waiting for customer")
    expect(
        page.locator("#kb-links").get_by_role("link", name="How do I return goods?")
    ).to_be_visible()
    [mail] = sink.wait_for(1)
    assert "You may return goods within 30 days of delivery." in mail.text()
    assert "- Pack the goods with the delivery note." in mail.text()


def test_agent_writes_an_article_with_the_rich_text_editor(
    page: Page, live_url: str, stack: Stack
) -> None:
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/kb/articles/new")
    page.get_by_label("Title", exact=True).fill("Descaling the kettle")
    editable = page.locator(".kb-editable")
    expect(editable).to_be_visible()
    expect(page.locator("textarea[name=body]")).to_be_hidden()
    editable.click()
    page.keyboard.type("Use citric acid. ")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type("Never vinegar.")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Bulleted list").click()
    page.keyboard.type("Rinse twice")
    page.get_by_label("Published (otherwise a draft only editors see)").check()
    shot(page, "kb-editor")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The article “Descaling the kettle” is saved.")).to_be_visible()
    page.goto(f"{live_url}/help/en/descaling-the-kettle")
    body = page.locator(".help-article-body")
    expect(body.locator("b, strong")).to_have_text("Never vinegar.")
    expect(body.locator("ul li")).to_have_text("Rinse twice")
