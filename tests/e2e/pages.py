"""Helpers of the browser tests: screenshots (artifacts in test-results/) and signing in."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.helpers import Stack

CHROMIUM = Path("/usr/lib/chromium/chromium")
SHOTS = Path("test-results/screenshots")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, live_url: str, stack: Stack, username: str) -> None:
    page.goto(f"{live_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(stack.logins[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/desk/"))
