"""The helpdesk in other languages, in a real browser: the desk in German and in Ukrainian, the
public form in Greek, the portal in Lithuanian. Each asserts ``<html lang>`` and texts read
from that language's catalog (never hard-coded translations), so they need the translators'
catalogs: until ``web/translations/{de,uk,el,lt}`` land they fail on purpose. Screenshots land
in test-results/screenshots/lang-*."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Contact
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack
from tests.web.portal_helpers import create, issue, unique_email
from tests.web.test_i18n import catalog_of
from tests.web.test_languages import desk_language


def translated(language: str, msgid: str) -> str:
    """The catalog's translation of ``msgid`` (which must differ from the English)."""
    message = catalog_of(language).get(msgid)
    assert message is not None and message.string, f"{language} lacks {msgid!r}"
    text = message.string if isinstance(message.string, str) else message.string[0]
    assert text != msgid
    return text


def desk_in(page: Page, live_url: str, stack: Stack, language: str) -> None:
    number = create(stack, unique_email(), subject=f"Desk in {language}")
    with desk_language(stack, "agent2", language):
        sign_in(page, live_url, stack, "agent2")
        page.goto(f"{live_url}/desk/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_text(translated(language, "Unassigned")).first).to_be_visible()
        shot(page, f"lang-desk-{language}")
        page.goto(f"{live_url}/desk/tickets/{number}")
        expect(page.locator("#ticket-state")).to_have_text(translated(language, "New"))
        expect(
            page.locator("summary", has_text=translated(language, "Internal note")).first
        ).to_be_visible()
        shot(page, f"lang-ticket-{language}")


def test_the_desk_in_german(page: Page, live_url: str, stack: Stack) -> None:
    desk_in(page, live_url, stack, "de")


def test_the_desk_in_ukrainian(page: Page, live_url: str, stack: Stack) -> None:
    desk_in(page, live_url, stack, "uk")


def test_the_public_form_in_greek(browser: Browser, live_url: str) -> None:
    context = browser.new_context(locale="el-GR")  # the browser asks for Greek
    page = context.new_page()
    try:
        page.goto(f"{live_url}/support/new")
        expect(page.locator("html")).to_have_attribute("lang", "el")
        heading = translated("el", "Contact support")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.get_by_role("button", name=translated("el", "Send request"))).to_be_visible()
        expect(page.get_by_role("link", name="Ελληνικά")).to_have_count(0)  # the current one
        shot(page, "lang-form-el")
    finally:
        context.close()


def test_the_portal_in_lithuanian(page: Page, live_url: str, stack: Stack, sink: Any) -> None:
    email = unique_email()
    number = create(stack, email, subject="Virdulys neveikia")
    with transaction(stack.sessions) as session:  # the customer's remembered language
        contact = session.scalar(select(Contact).where(Contact.email == email))
        assert contact is not None
        contact.language = "lt"
    page.goto(f"{live_url}/portal/login/{issue(stack, email)}")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    expect(page.get_by_role("heading", name=translated("lt", "My requests"))).to_be_visible()
    row = page.get_by_role("row", name=number)
    expect(row).to_contain_text(translated("lt", "Received"))  # the customer's wording of New
    shot(page, "lang-portal-lt")
