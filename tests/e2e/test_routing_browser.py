"""The routing admin in a real browser: an admin adds a rule, sets a group's strategy and an
agent's availability and skills; each is stored as the opening reads it."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from tempodesk.core.db import transaction
from tempodesk.core.models import AgentRouting, AgentSkill, Channel, GroupRouting, RoutingRule
from tempodesk.routing import store
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack


def test_an_admin_sets_up_routing_in_the_browser(page: Page, live_url: str, stack: Stack) -> None:
    sign_in(page, live_url, stack, "admin")
    page.goto(f"{live_url}/admin/")
    page.get_by_role("link", name="Routing").click()
    expect(page.get_by_role("heading", name="Routing", level=1)).to_be_visible()
    form = page.locator("form.routing-rule-form")
    form.get_by_label("Name").fill("Browser invoices")
    form.get_by_label("Position").fill("-50")
    form.get_by_label("Field").select_option("subject")
    form.get_by_label("Operator").select_option("contains_any")
    form.get_by_label("Value").fill("faktura, invoice")
    form.get_by_label("Group").select_option("Billing")
    form.get_by_label("Priority").select_option("3")
    form.get_by_role("button", name="Add rule").click()
    expect(page.get_by_text("The rule is saved.")).to_be_visible()
    row = page.locator("table.routing-rules tr", has_text="Browser invoices")
    expect(row).to_contain_text("to Billing, priority 3")

    billing = page.locator("table.routing-groups tr", has_text="Billing")
    billing.get_by_label("Strategy").select_option("skills")
    billing.get_by_label("Cap").fill("7")
    billing.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The group's routing is saved.")).to_be_visible()

    bob = page.locator("table.routing-agents tr", has_text="Bob Agent")
    bob.get_by_label("Availability").select_option("away")
    bob.get_by_label("Skills").fill("german:4, invoices")
    bob.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The agent's routing is saved.")).to_be_visible()
    shot(page, "routing-admin")
    try:
        with stack.sessions() as session:
            rule = session.scalar(select(RoutingRule).where(RoutingRule.name == "Browser invoices"))
            assert rule is not None
            assert store.rule_doc(rule)["conditions"] == [
                {"field": "subject", "op": "contains_any", "value": "faktura, invoice"}
            ]
            assert rule.outcome == {"group": "Billing", "priority": 3} and rule.stop
            billing_routing = session.get(GroupRouting, "Billing")
            assert billing_routing is not None
            assert (billing_routing.strategy, billing_routing.max_open) == ("skills", 7)
            assert store.agent_routing(session, "agent2").availability == "away"
            assert store.skills_of(session, "agent2") == {"german": 4, "invoices": 1}
        row.get_by_role("button", name="Delete").click()
        expect(page.get_by_text("The rule is deleted.")).to_be_visible()
    finally:
        with transaction(stack.sessions) as session:
            session.execute(delete(RoutingRule).where(RoutingRule.name == "Browser invoices"))
            session.execute(delete(GroupRouting).where(GroupRouting.group_name == "Billing"))
            session.execute(delete(AgentRouting).where(AgentRouting.username == "agent2"))
            session.execute(delete(AgentSkill).where(AgentSkill.username == "agent2"))


def test_an_admin_edits_the_phone_channel(page: Page, live_url: str, stack: Stack) -> None:
    sign_in(page, live_url, stack, "admin")
    page.goto(f"{live_url}/admin/")
    page.get_by_role("link", name="Phone").click()
    form = page.locator("form.channel-form")
    form.get_by_label("Label").fill("Hotline")
    form.get_by_label("Owner").select_option("agent2")
    form.get_by_label("Group").select_option("Billing")
    form.get_by_label("Process of new tickets").select_option("returns")
    form.get_by_role("button", name="Save").click()
    try:
        expect(page.get_by_text("The channel is saved.")).to_be_visible()
        expect(page.get_by_role("link", name="Hotline")).to_be_visible()
        with stack.sessions() as session:
            phone = session.scalar(select(Channel).where(Channel.name == "phone"))
            assert phone is not None
            assert (phone.label, phone.owner, phone.group_name, phone.process_name) == (
                "Hotline",
                "agent2",
                "Billing",
                "returns",
            )
    finally:
        with transaction(stack.sessions) as session:
            phone = session.scalar(select(Channel).where(Channel.name == "phone"))
            assert phone is not None
            phone.label, phone.owner, phone.group_name = "Phone", None, "Support"
            phone.process_name = None
