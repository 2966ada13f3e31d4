"""The reports page in a real browser, in English and in Czech: a group's supervisor opens
it, the charts are drawn (server-side SVG, nothing the Content-Security-Policy refuses), a
bar tells its value, and the CSV downloads.

Screenshots land in test-results/screenshots/reports-*.png (not committed).
"""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack
from tests.tempodesk.reports.seed import seed
from tests.web.test_reports import PERIOD, supervisor_of


def test_a_supervisor_reads_the_reports_in_english_and_czech(
    page: Page, live_url: str, stack: Stack
) -> None:
    seeded = seed(stack)
    chief = supervisor_of(stack, seeded.group)
    refused: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", watch)
    sign_in(page, live_url, stack, chief)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    page.goto(f"{live_url}/desk/reports?{PERIOD}")
    expect(page.locator("svg.chart")).to_have_count(7)
    daily = page.locator("#report-created_resolved")
    expect(daily.get_by_role("heading")).to_have_text("Tickets created and resolved per day")
    expect(daily.locator("rect.bar title").first).to_have_text("2020-03-01 · Created: 2 tickets")
    with page.expect_download() as download:
        page.locator("#report-backlog").get_by_role("link", name="Data as CSV").click()
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0] == "state_category,group,tickets"
    shot(page, "reports-en")

    page.goto(f"{live_url}/desk/profile")
    page.get_by_label("Language of the desk").select_option("cs")
    page.get_by_role("button", name="Save").click()
    page.goto(f"{live_url}/desk/reports?{PERIOD}&by=agent")
    expect(page.get_by_role("heading", name="Přehledy", exact=True)).to_be_visible()
    expect(daily.get_by_role("heading")).to_have_text("Vytvořené a vyřešené požadavky po dnech")
    expect(daily.locator(".legend").first).to_have_text("Vytvořeno")
    csat = page.locator("#report-csat")
    expect(csat.locator("rect.bar")).to_have_count(2)  # alice and bob, by agent
    shot(page, "reports-cs")
    assert refused == []
