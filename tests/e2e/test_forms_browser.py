"""A form an admin configured for a site, in a real browser: on our site and embedded in
another site's page."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from tempodesk.app.devserver import free_port
from tempodesk.core.db import transaction
from tempodesk.core.models import Ticket
from tempodesk.tickets import forms
from tempodesk.tickets.form_fields import FormField
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack


def make_form(stack: Stack, origin: str = "") -> str:
    slug = f"shop-{uuid.uuid4().hex[:6]}"
    with transaction(stack.sessions) as session:
        forms.save(
            session,
            forms.FormSettings(
                slug=slug,
                title="Questions about an order",
                confirmation="Our shop team answers within one working day.",
                embed_origins=origin,
                group="Support",
                fields=[
                    FormField("serial", "Serial number", "text", required=True, max_length=40),
                    FormField("delivery", "Delivery", "select", choices=("Courier", "Post")),
                ],
            ),
            max_attachment_bytes=stack.settings.max_attachment_bytes,
        )
    return slug


def test_a_custom_form_links_the_order_and_its_field_is_searchable_in_the_desk(
    page: Page, live_url: str, stack: Stack
) -> None:
    slug = make_form(stack)
    serial = f"SN-{uuid.uuid4().hex[:8].upper()}"
    page.goto(f"{live_url}/support/{slug}")
    page.get_by_label("Your name").fill("Jana Nováková")
    page.get_by_label("Your email address").fill("jana.novakova@example.com")
    page.get_by_label("Subject").fill("The kettle from my order")
    page.get_by_label("Order number (optional)").fill("ORD-1001")
    page.get_by_label("Serial number").fill(serial)
    page.get_by_label("Delivery").select_option("Courier")
    page.get_by_label("How can we help?").fill("It stopped heating after a week.")
    shot(page, "site-form")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading")).to_contain_text("we have your request")
    expect(page.get_by_text("Our shop team answers within one working day.")).to_be_visible()
    number = page.locator(".ticket-number").inner_text()

    sign_in(page, live_url, stack, "agent1")
    page.goto(f"{live_url}/desk/search?q={serial}")
    page.get_by_role("link", name=number).first.click()
    expect(page.get_by_role("heading", name="Order ORD-1001")).to_be_visible()
    fact = page.locator("dl.facts div", has_text="Serial number")
    expect(fact.locator("dd")).to_have_text(serial)
    expect(page.locator("dl.facts div", has_text="Delivery").locator("dd")).to_have_text("Courier")
    shot(page, "site-form-ticket")


@pytest.fixture
def shop_site() -> Iterator[tuple[str, dict[str, str]]]:
    """Another site (another origin: localhost, not 127.0.0.1) serving the page it is given."""
    pages: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [pages.get(environ["PATH_INFO"], "").encode()]

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}", pages
    server.shutdown()
    thread.join(10)


def test_a_form_embedded_in_another_site_files_a_request(
    page: Page, live_url: str, stack: Stack, shop_site: tuple[str, dict[str, str]]
) -> None:
    origin, pages = shop_site
    slug = make_form(stack, origin)
    pages["/contact"] = (
        "<!doctype html><title>Shop</title><h1>Our shop</h1>"
        f'<script src="{live_url}/support/{slug}/embed.js"></script>'
    )
    page.goto(f"{origin}/contact")
    frame = page.frame_locator("iframe")
    frame.get_by_label("Your name").fill("Eva Embedded")
    frame.get_by_label("Your email address").fill("eva.embedded@example.com")
    frame.get_by_label("Subject").fill("Asked from the shop's page")
    frame.get_by_label("Serial number").fill("SN-IFRAME-1")
    frame.get_by_label("How can we help?").fill("Does it come in red?")
    frame.get_by_role("button", name="Send request").click()
    expect(frame.get_by_role("heading")).to_contain_text("we have your request")
    number = frame.locator(".ticket-number").inner_text()
    with stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.fields["serial"] == "SN-IFRAME-1"
    shot(page, "site-form-embedded")
