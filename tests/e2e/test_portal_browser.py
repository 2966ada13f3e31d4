"""The customer portal in a real browser: signing in by the link caught in the mail sink, only
one's own requests in customer wording, a reply with an attachment that the desk shows, and a
`portal_reply` answer whose mailed link opens the request after signing in."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Contact
from tempodesk.tickets import processes
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack
from tests.web.portal_helpers import create, eventually, link_in_mail, unique_email
from tests.web.test_portal import PORTAL_PROCESS


def sign_in_by_link(page: Page, live_url: str, sink: Any, email: str) -> None:
    """On the portal's sign-in page: ask for a link, open it from the caught mail, sign in."""
    page.get_by_label("Your email address", exact=True).fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("heading")).to_be_visible()
    page.goto(live_url + link_in_mail(sink, email))
    shot(page, "portal-confirm")
    page.get_by_role("button", name="Sign in").click()


def test_a_customer_signs_in_by_link_sees_their_requests_and_replies_with_a_file(
    page: Page, live_url: str, stack: Stack, sink: Any
) -> None:
    email = unique_email()
    mine = create(stack, email, subject="Kettle leaks", body="Water everywhere.")
    theirs = create(stack, unique_email(), subject="Someone else's toaster")

    page.goto(f"{live_url}/portal/login")
    shot(page, "portal-login")
    sign_in_by_link(page, live_url, sink, email)
    expect(page).to_have_url(re.compile(r"/portal/tickets$"))
    row = page.get_by_role("row", name=re.compile(mine))
    expect(row).to_contain_text("Kettle leaks")
    expect(row).to_contain_text("Received")  # the customer's wording of "New"
    expect(page.get_by_text(theirs)).to_have_count(0)
    expect(page.get_by_text("Someone else's toaster")).to_have_count(0)
    shot(page, "portal-my-requests")

    page.get_by_role("link", name=mine).click()
    expect(page.get_by_text("Water everywhere.")).to_be_visible()
    page.get_by_label("Your reply").fill("PHOTO-OF-THE-LEAK attached.")
    page.set_input_files(
        "#attachments",
        files=[{"name": "leak.txt", "mimeType": "text/plain", "buffer": b"a puddle"}],
    )
    shot(page, "portal-reply")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Your reply was sent.")).to_be_visible()

    def shown() -> bool:
        page.reload()
        return page.get_by_role("link", name="leak.txt").count() == 1

    eventually(shown)
    expect(page.get_by_text("PHOTO-OF-THE-LEAK attached.")).to_be_visible()
    shot(page, "portal-request-after-reply")

    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{mine}")
    expect(page.get_by_text("PHOTO-OF-THE-LEAK attached.").first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("leak.txt")).first).to_be_visible()
    shot(page, "desk-sees-portal-reply")


def test_the_link_a_portal_reply_mails_opens_the_request_after_signing_in(
    page: Page, live_url: str, stack: Stack, sink: Any
) -> None:
    with transaction(stack.sessions) as session:
        processes.publish(session, PORTAL_PROCESS, author="tests")
    email = unique_email()
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Kettle in the portal",
            "body": "Help",
            "customer": {"email": email},
            "process": "portal_answers",
        },
        headers=stack.api(),
    )
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]

    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")
    page.locator("summary", has_text="Answer in the portal").first.click()
    page.locator("#action-answer textarea").fill("BROWSER-ANSWER-IN-PORTAL")
    page.locator("#action-answer").get_by_role("button", name="Answer in the portal").click()
    expect(page.locator("#ticket-state")).to_have_text("Answered in the portal")
    page.get_by_role("button", name="Sign out").click()

    found: list[Any] = []

    def mailed() -> bool:
        found[:] = [m for m in list(sink.caught) if email in m.recipients]
        return bool(found)

    eventually(mailed)
    text = found[0].text()
    assert "BROWSER-ANSWER-IN-PORTAL" not in text  # the answer waits in the portal
    match = re.search(r"http://desk\.test(/portal/tickets/\S+)", text)
    assert match and match.group(1) == f"/portal/tickets/{number}", text
    sink.caught.clear()

    page.goto(live_url + match.group(1))
    expect(page).to_have_url(re.compile(r"/portal/login\?next="))
    sign_in_by_link(page, live_url, sink, email)
    expect(page).to_have_url(f"{live_url}/portal/tickets/{number}")
    expect(page.get_by_text("BROWSER-ANSWER-IN-PORTAL")).to_be_visible()
    expect(page.locator(".state")).to_have_text("Answered")
    shot(page, "portal-answer-from-mail")


def test_a_member_sees_the_organisations_requests_sets_a_password_and_signs_in_with_it(
    page: Page, live_url: str, stack: Stack, sink: Any
) -> None:
    petrs = create(stack, "petr@acme.example", subject="Invoice with our VAT number")
    page.goto(f"{live_url}/portal/login")
    sign_in_by_link(page, live_url, sink, "lucie@acme.example")  # the demo's colleague
    section = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("organisation"))
    )
    expect(section.get_by_role("row", name=re.compile(petrs))).to_contain_text("Received")
    shot(page, "portal-organisation-requests")
    section.get_by_role("link", name=petrs).click()
    expect(page.get_by_text("only they can answer it")).to_be_visible()
    expect(page.get_by_label("Your reply")).to_have_count(0)

    try:
        page.goto(f"{live_url}/portal/profile")
        page.get_by_label("New password", exact=True).fill("lucie's long password")
        page.get_by_label("New password again").fill("lucie's long password")
        page.get_by_role("button", name="Set password").click()
        expect(page.get_by_text("Your password is set.")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()

        page.get_by_label("Email address", exact=True).fill("lucie@acme.example")
        page.get_by_label("Password", exact=True).fill("lucie's long password")
        page.get_by_role("button", name="Sign in with password").click()
        expect(page).to_have_url(re.compile(r"/portal/tickets$"))
        expect(page.get_by_text("lucie@acme.example")).to_be_visible()
    finally:
        with transaction(stack.sessions) as session:
            lucie = session.scalar(select(Contact).where(Contact.email == "lucie@acme.example"))
            assert lucie is not None
            lucie.password_hash = ""
