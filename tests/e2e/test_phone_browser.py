"""Telephony in a real browser against the stand-in PBX: an agent clicks Call, the stand-in
rings and hangs up, the agent records "not reached" and the timeline shows it; a test call
to an agent's extension pops up on that agent's desk.

Screenshots land in test-results/screenshots/phone-*.png.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack
from tests.web.phone_helpers import Pbx, pbx_fixture  # noqa: F401  (the fixture "pbx")
from tests.web.test_phone import phone_number, ticket_for


def test_agent_calls_the_customer_and_records_not_reached(
    page: Page, live_url: str, stack: Stack, pbx: Pbx
) -> None:
    phone = phone_number()
    number = ticket_for(stack, phone, subject="Please call me about the invoice")
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")
    page.locator("summary").filter(has_text=re.compile(r"^\s*Call\s*$")).click()
    page.get_by_role("button", name="Call", exact=True).click()
    calls = page.locator("#phone-calls")
    expect(calls).to_contain_text(f"to {phone}")
    record = pbx.call(ticket_number=number)
    pbx.status_becomes(record.id, "ringing")
    expect(calls).to_contain_text("Ringing")
    shot(page, "phone-ringing")

    pbx.standin.hangup(str(record.call_key))  # nobody picked up
    expect(calls).to_contain_text("Not connected")
    expect(page.get_by_text("The call ended: record how it went")).to_be_visible()
    page.locator("summary").filter(has_text="Call: not reached").click()
    page.get_by_role("button", name="Call: not reached").click()
    expect(page.locator("#ticket-state")).to_have_text("Call back in 2 hours")
    expect(page.locator(".timeline")).to_contain_text("Call: not reached")
    expect(page.locator("#phone-calls")).to_contain_text("Not reached")
    shot(page, "phone-not-reached")


def test_an_incoming_test_call_pops_up_for_the_agent_whose_extension_rings(
    page: Page, live_url: str, stack: Stack, pbx: Pbx
) -> None:
    phone = phone_number()
    number = ticket_for(stack, phone, subject="The heater is cold again")
    sign_in(page, live_url, stack, "agent2")
    page.goto(f"{live_url}/desk/")
    pop = page.locator("#phone-pop")
    expect(pop).to_be_hidden()
    pbx.standin.ring("102", phone)
    expect(pop).to_be_visible()
    expect(pop).to_contain_text("Incoming call from")
    expect(pop).to_contain_text(number)
    shot(page, "phone-pop")
    pop.get_by_role("button", name="New ticket from this call").click()
    expect(page.locator(".ticket-no")).not_to_have_text(number)
    expect(page.locator(".facts")).to_contain_text("phone")
    expect(pop).to_be_hidden()  # the call is on a ticket now: it pops up no more
