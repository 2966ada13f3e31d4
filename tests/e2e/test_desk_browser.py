"""The desk's lists in a real browser: the search box, keyboard shortcuts, presence, the split
view's preview, dragging the panel, and a phone-sized screen.

Screenshots land in test-results/screenshots/desk-*.png.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import DeskLayout, User
from tempodesk.knowledge import articles
from tempodesk.knowledge.articles import ArticleData
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack, csrf_token


def new_ticket(stack: Stack, subject: str) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": subject,
            "body": f"About {subject}: it stopped working after a week.",
            "customer": {"email": f"e2e-{uuid.uuid4().hex[:8]}@example.org", "name": "Olga"},
        },
        headers=stack.api(),
    )
    assert response.status_code == 201
    number: str = response.get_json()["number"]
    return number


def reset_layout(stack: Stack, username: str) -> None:
    with transaction(stack.sessions) as session:
        row = session.get(DeskLayout, username)
        if row is not None:
            session.delete(row)


@pytest.fixture
def blocked(page: Page) -> Iterator[list[str]]:
    """Anything the Content-Security-Policy blocked (there must be nothing)."""
    found: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", watch)
    yield found
    assert found == []


def test_agent_searches_opens_by_keyboard_sees_a_colleague_and_previews(
    page: Page, live_url: str, stack: Stack, blocked: list[str]
) -> None:
    tag = f"kettle{uuid.uuid4().hex[:6]}"
    numbers = [new_ticket(stack, f"{tag} number {i}") for i in range(3)]
    newest = numbers[-1]
    reset_layout(stack, "agent1")
    # agent2 has the newest ticket open (the page's script reports it; the GET writes nothing).
    agent2 = stack.login("agent2")
    opened = agent2.get(f"/desk/tickets/{newest}")
    assert opened.status_code == 200
    reported = agent2.post(
        f"/desk/tickets/{newest}/presence",
        json={"activity": "viewing"},
        headers={"X-CSRFToken": csrf_token(opened.get_data(as_text=True))},
    )
    assert reported.status_code == 200

    sign_in(page, live_url, stack, "agent1")
    page.get_by_label("Search tickets").fill(tag)
    page.get_by_label("Search tickets").press("Enter")
    expect(page).to_have_url(re.compile(r"/desk/search\?q="))
    expect(page.locator("[data-row]")).to_have_count(3)
    shot(page, "desk-search")

    # j selects the first row, o opens it.
    page.locator("h1").click()  # focus on the page, not in a field
    page.keyboard.press("j")
    expect(page.locator("[data-row]").first).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{newest}$"))
    expect(page.locator("#presence")).to_have_text("agent2 is looking at this ticket")
    shot(page, "desk-ticket-presence")

    # ? shows the shortcuts; r opens the reply form with the cursor in it.
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    shot(page, "desk-shortcuts")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    page.keyboard.press("r")
    expect(page.get_by_label("Reply to the customer")).to_be_focused()

    # Split view: the list plus a preview of the selected ticket.
    page.goto(f"{live_url}/desk/search?q={tag}")
    try:
        page.get_by_role("button", name="Split view").click()
        expect(page.locator("#preview")).to_be_visible()
        page.locator("[data-row] a[data-open]").nth(1).click()
        expect(page).to_have_url(re.compile(r"/desk/search\?q="))  # previewed, not opened
        expect(page.locator("#preview h2")).to_have_text(f"{tag} number 1")
        expect(page.locator("#preview")).to_contain_text("it stopped working after a week")
        page.keyboard.press("j")
        expect(page.locator("#preview h2")).to_have_text(f"{tag} number 0")
        shot(page, "desk-split-view")
        page.get_by_role("link", name=f"Open {numbers[0]}").click()
        expect(page).to_have_url(re.compile(rf"/desk/tickets/{numbers[0]}$"))
    finally:
        reset_layout(stack, "agent1")


def test_agent_drags_a_list_to_the_top_of_the_panel(
    page: Page, live_url: str, stack: Stack, blocked: list[str]
) -> None:
    reset_layout(stack, "limited")
    sign_in(page, live_url, stack, "limited")
    entries = page.locator("[data-panel] li[data-key]")
    expect(entries.first).to_have_attribute("data-key", "view:mine")
    page.locator('li[data-key="view:spam"]').drag_to(page.locator('li[data-key="view:mine"]'))
    expect(page.locator("#panel-status")).to_have_text("The new order of the lists is saved.")
    page.reload()
    expect(entries.first).to_have_attribute("data-key", "view:spam")
    shot(page, "desk-panel-dragged")
    reset_layout(stack, "limited")


def test_the_list_and_a_ticket_fit_a_phone_screen(
    page: Page, live_url: str, stack: Stack, blocked: list[str]
) -> None:
    number = new_ticket(stack, "A rather long subject line about a kettle that will not heat")
    with transaction(stack.sessions) as session:  # offered in the ticket page's selects
        title = "How to descale a kettle that will not heat " + "and keeps switching off " * 3
        articles.save(
            session,
            ArticleData(title=title[:200], body="<p>Vinegar.</p>", published=True),
            author="t",
        )
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/?view=view:all&per=8")
    expect(page.locator(f'[data-number="{number}"]')).to_be_visible()
    fits = "document.documentElement.scrollWidth <= window.innerWidth + 1"
    assert page.evaluate(fits)
    shot(page, "desk-phone-list")
    try:
        page.get_by_role("button", name="Compact list").click()
        expect(page.locator(f'li[data-number="{number}"]')).to_be_visible()
        assert page.evaluate(fits)
        shot(page, "desk-phone-compact")
    finally:
        reset_layout(stack, "agent1")
    page.goto(f"{live_url}/desk/tickets/{number}")
    expect(page.get_by_role("button", name="Mark unread")).to_be_visible()
    assert page.evaluate(fits)
    shot(page, "desk-phone-ticket")


def test_an_agent_switches_the_desk_to_czech_and_the_scripts_speak_it_too(
    page: Page, live_url: str, stack: Stack, blocked: list[str]
) -> None:
    numbers = [new_ticket(stack, f"Czech desk {n}") for n in range(2)]
    reset_layout(stack, "agent2")  # the table, with its tick boxes
    sign_in(page, live_url, stack, "agent2")
    try:
        page.goto(f"{live_url}/desk/profile")
        page.get_by_label("Language of the desk").select_option("cs")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("html")).to_have_attribute("lang", "cs")
        expect(page.get_by_role("button", name="Uložit")).to_be_visible()

        page.goto(f"{live_url}/desk/?view=view:all")
        expect(page.get_by_role("link", name=re.compile("Nepřiřazené"))).to_be_visible()
        for number in numbers:
            page.get_by_label(f"Vybrat {number}").check()
        # The count comes from desk.js: the Czech form for 2-4 ("2 vybrané požadavky").
        expect(page.locator("#bulk-count")).to_contain_text("2 vybran")
        expect(page.locator("#bulk-count")).not_to_contain_text("selected")
        shot(page, "desk-czech-bulk")
    finally:
        with transaction(stack.sessions) as session:
            user = session.scalar(select(User).where(User.username == "agent2"))
            assert user is not None
            user.language = "en"
