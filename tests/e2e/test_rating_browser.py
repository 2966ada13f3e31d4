"""Rating an answer from the mailed link in a real browser: the agent resolves a ticket with
an action that asks for a rating, the customer's mail carries the links, the customer opens
one, sends the rating with a comment, and the desk's ticket page shows it.

Screenshots land in test-results/screenshots/rating-*.png.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tempodesk.mail.sink import MailSink
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack
from tests.web.portal_helpers import eventually


def rating_path(sink: MailSink, address: str, score: int) -> str:
    found: list[str] = []

    def arrived() -> bool:
        for caught in list(sink.caught):
            if address in caught.recipients:
                body = caught.message.get_body(("plain",)).get_content()
                match = re.search(rf"http://desk\.test(/rate/\S+\?score={score})", body)
                if match:
                    found.append(match.group(1))
                    return True
        return False

    eventually(arrived)
    return found[0]


def test_customer_rates_from_the_mailed_link_and_the_desk_shows_it(
    page: Page, live_url: str, stack: Stack, sink: MailSink
) -> None:
    email = f"rate-{uuid.uuid4().hex[:8]}@example.org"
    response = stack.client().post(
        "/api/v1/tickets",
        json={"subject": "Kettle leaks", "body": "It leaks.", "customer": {"email": email}},
        headers=stack.api(),
    )
    assert response.status_code == 201
    number = response.get_json()["number"]

    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")
    page.locator("summary", has_text="Resolve").first.click()
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#ticket-state")).to_have_text("Resolved")

    path = rating_path(sink, email, 4)
    customer = page.context.browser.new_context()  # type: ignore[union-attr]
    rating_page = customer.new_page()
    rating_page.goto(live_url + path)
    expect(rating_page.get_by_role("heading", name="Rate our answer")).to_be_visible()
    expect(rating_page.get_by_label("4", exact=True)).to_be_checked()
    rating_page.get_by_label("5", exact=True).check()
    rating_page.get_by_label("Comment (optional)").fill("Fixed in a day, thank you!")
    shot(rating_page, "rating-link-page")
    rating_page.get_by_role("button", name="Send").click()
    expect(rating_page.get_by_role("heading", name="Thank you for your rating.")).to_be_visible()
    customer.close()

    def shown() -> bool:
        page.reload()
        return page.locator("#rating .rating-score").count() == 1

    eventually(shown)
    expect(page.locator("#rating .rating-score")).to_have_text("5/5")
    expect(page.locator("#rating")).to_contain_text("Fixed in a day, thank you!")
    expect(page.locator("#rating")).to_contain_text("agent1")
    shot(page, "rating-on-the-desk")
