"""The triggers admin in a real browser: an admin writes a trigger with a condition and an
action, adds a mailbox's auto-reply, moves it first, disables and deletes it; each is stored
as the tickets' workflows read it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tempodesk.routing import triggers
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack
from tests.web.test_triggers import put


def test_an_admin_keeps_triggers_in_the_browser(page: Page, live_url: str, stack: Stack) -> None:
    sign_in(page, live_url, stack, "admin")
    page.goto(f"{live_url}/admin/")
    page.get_by_role("link", name="Triggers").click()
    expect(page.get_by_role("heading", name="Triggers", level=1)).to_be_visible()
    try:
        page.get_by_role("link", name="New trigger").click()
        page.get_by_label("Name", exact=True).fill("Browser refunds")
        page.get_by_label("When").select_option("created")
        page.get_by_label("Field 1").fill("subject")
        page.get_by_label("Operator 1").select_option("contains")
        page.get_by_label("Value 1").first.fill("refund")
        page.get_by_label("Action 1").select_option("set_priority")
        page.locator("input[name=act_value_0]").fill("4")
        page.get_by_label("Enabled").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("The trigger is saved.")).to_be_visible()
        expect(page.locator("table.triggers-list tr", has_text="Browser refunds")).to_contain_text(
            "subject contains refund"
        )

        form = page.locator("form.auto-reply-form")
        form.get_by_label("Mailbox").select_option("support")
        form.get_by_label("Template").select_option("ticket_received")
        form.get_by_role("button", name="Add auto-reply").click()
        expect(page.get_by_text("The auto-reply is saved.")).to_be_visible()
        reply = page.locator("table.triggers-list tr", has_text="Auto-reply: support")
        reply.get_by_role("button", name="Up: Auto-reply: support").click()
        expect(page.get_by_text("The order is saved.")).to_be_visible()
        reply.get_by_role("button", name="Disable").click()
        expect(page.get_by_text("The trigger is disabled.")).to_be_visible()
        shot(page, "triggers-admin")
        with stack.sessions() as session:
            stored = [triggers.as_json(t) for t in triggers.every(session)]
            assert [(t["name"], t["enabled"]) for t in stored] == [
                ("Auto-reply: support", False),
                ("Browser refunds", True),
            ]
            assert stored[1]["actions"] == [{"type": "set_priority", "name": "", "value": 4}]
            assert [s.name for s in triggers.active(session)] == ["Browser refunds"]
        reply.get_by_role("button", name="Delete").click()
        expect(page.get_by_text("The trigger is deleted.")).to_be_visible()
        expect(page.locator("table.triggers-list")).not_to_contain_text("Auto-reply: support")
    finally:
        assert put(stack, []).status_code == 200  # the stack is shared
