"""Tags and links from the desk, in a real browser: the agent tags a ticket (the tag shows
on the ticket and its list row, and the list filters by it), links it to another (both
pages show the link) and an admin deletes a ticket after typing its number.

Screenshots land in test-results/screenshots/relations-*.png.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.pages import shot, sign_in
from tests.e2e.test_desk_browser import new_ticket
from tests.helpers import Stack
from tests.web.test_split import ticket_with_a_follow_up


def test_an_agent_tags_a_ticket_and_finds_it_by_the_tag(
    page: Page, live_url: str, stack: Stack
) -> None:
    word = f"e2e{uuid.uuid4().hex[:6]}"
    number = new_ticket(stack, f"tagged {word}")
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")

    page.get_by_label("Add tags (separated by commas)").fill(f"{word}, Second Tag")
    page.get_by_role("button", name="Add tags").click()

    tags = page.locator("#ticket-tags")
    expect(tags.locator(f'[data-tag="{word}"]')).to_be_visible()
    expect(tags.locator('[data-tag="second-tag"]')).to_be_visible()
    shot(page, "relations-tags")
    page.goto(f"{live_url}/desk/?filter=1&tag={word}")
    rows = page.locator("td.subject")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(word)


def test_an_agent_links_two_tickets_and_both_show_it(
    page: Page, live_url: str, stack: Stack
) -> None:
    tag = uuid.uuid4().hex[:6]
    parent = new_ticket(stack, f"move {tag}")
    child = new_ticket(stack, f"printer {tag}")
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{parent}")

    page.get_by_text("Link to another ticket").click()
    page.get_by_label("Number of the ticket to link").fill(child)
    page.get_by_label("The other ticket is").select_option("child")
    page.get_by_role("button", name="Link the tickets").click()

    expect(page.locator(f'#ticket-links [data-link="{child}"]')).to_have_attribute(
        "data-kind", "child"
    )
    shot(page, "relations-link")
    page.goto(f"{live_url}/desk/tickets/{child}")
    expect(page.locator(f'#ticket-links [data-link="{parent}"]')).to_have_attribute(
        "data-kind", "parent"
    )


def test_an_admin_deletes_a_ticket_after_typing_its_number(
    page: Page, live_url: str, stack: Stack
) -> None:
    number = new_ticket(stack, f"spam {uuid.uuid4().hex[:6]}")
    sign_in(page, live_url, stack, "admin")
    page.goto(f"{live_url}/desk/tickets/{number}")

    page.get_by_text("Delete this ticket").click()
    page.get_by_label("This ticket's number, to confirm").fill(number)
    page.get_by_role("button", name="Delete the ticket").click()

    expect(page).to_have_url(re.compile(r"/desk/"))
    expect(page.get_by_text(f"Ticket {number} is deleted.")).to_be_visible()
    assert stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).status_code == 404


def test_an_agent_splits_a_message_off_into_a_new_ticket(
    page: Page, live_url: str, stack: Stack
) -> None:
    _, number, _, _ = ticket_with_a_follow_up(stack)
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Split off into a new ticket").click()

    expect(page).not_to_have_url(re.compile(rf"/desk/tickets/{number}$"))
    expect(page.get_by_text(f"The message is split off {number} into this ticket.")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("Also, my toaster smokes.")).to_be_visible()
    expect(timeline.get_by_role("link", name="toaster.pdf")).to_be_visible()
    shot(page, "relations-split")
    page.goto(f"{live_url}/desk/tickets/{number}")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("Also, my toaster smokes.")).to_have_count(0)
