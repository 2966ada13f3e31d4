"""Merging a ticket into another from the desk, in a real browser: the agent names the
survivor, confirms, lands on it and sees the merged ticket's message there; the merged
ticket's page points to the survivor.

Screenshots land in test-results/screenshots/merge-*.png.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.pages import shot, sign_in
from tests.e2e.test_desk_browser import new_ticket
from tests.helpers import Stack


def test_an_agent_merges_a_ticket_into_another_from_the_desk(
    page: Page, live_url: str, stack: Stack
) -> None:
    tag = uuid.uuid4().hex[:6]
    goes = new_ticket(stack, f"lid {tag}")
    stays = new_ticket(stack, f"leak {tag}")
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{goes}")

    page.get_by_text("Merge into another ticket").click()
    page.get_by_label("Ticket number").fill(stays)
    shot(page, "merge-form")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Merge", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/desk/tickets/{stays}$"))
    expect(page.get_by_text(f"{goes} is merged into this ticket.")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text(f"About lid {tag}: it stopped working")).to_be_visible()
    expect(timeline.locator(f'[data-from-ticket="{goes}"]').first).to_be_visible()
    shot(page, "merge-survivor")

    page.goto(f"{live_url}/desk/tickets/{goes}")
    expect(page.locator("#ticket-state")).to_have_text("Merged")
    page.locator("#merged-into").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{stays}$"))
