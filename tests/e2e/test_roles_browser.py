"""The roles page in a real browser: an admin creates a role with two rights, opens it,
changes its rights, and gives it to a user in the user editor.

Screenshots land in test-results/screenshots/roles-*.png (not committed).
"""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tempodesk.people import users
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack


def test_an_admin_creates_a_role_and_gives_it_to_a_user(
    page: Page, live_url: str, stack: Stack
) -> None:
    role = f"triage{uuid.uuid4().hex[:6]}"
    sign_in(page, live_url, stack, "admin")
    page.goto(f"{live_url}/admin/")
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Roles").click()
    expect(page.get_by_role("heading", name="Roles", exact=True)).to_be_visible()
    form = page.locator("form[aria-labelledby=new-role-title]")
    form.get_by_label("Name").fill(role)
    form.get_by_label("Description").fill("Sorts the queue")
    form.locator("input[name=rights][value=act]").check()
    form.locator("input[name=rights][value=see_all_queues]").check()
    form.get_by_role("button", name="Create role").click()
    expect(page.locator(".flash")).to_contain_text(f"The role '{role}' is created.")
    row = page.locator("#roles tr", has_text=role)
    expect(row).to_contain_text("act, see_all_queues")
    shot(page, "roles-list")

    row.get_by_role("link", name=role).click()
    page.locator("input[name=rights][value=see_all_queues]").uncheck()
    page.locator("input[name=rights][value=view_reports]").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#roles tr", has_text=role)).to_contain_text("act, view_reports")

    page.goto(f"{live_url}/admin/users/agent2")
    roles = page.locator("#roles")
    expect(roles.locator("input[value=agent]")).to_be_checked()
    roles.locator(f"input[value={role}]").check()
    shot(page, "roles-user")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("The user 'agent2' is saved.")
    with stack.sessions() as session:
        agent = users.get_user(session, "agent2")
        assert agent is not None and agent.role_names == ["agent", role]
        assert agent.rights == ["act", "view_reports"]
    # Leave the demo user as the other tests expect them.
    page.goto(f"{live_url}/admin/users/agent2")
    page.locator(f"#roles input[value={role}]").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("The user 'agent2' is saved.")
