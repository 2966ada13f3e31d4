"""Helpers of the portal tests: tickets of a customer, sign-in links, a signed-in client."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tempodesk.core.db import transaction
from tempodesk.mail.sink import MailSink
from tempodesk.people import portal_links
from tests.helpers import Stack, csrf_token


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("the condition did not become true in time")


def unique_email() -> str:
    return f"portal-{uuid.uuid4().hex[:10]}@example.com"


def create(stack: Stack, email: str, subject: str = "Broken kettle", body: str = "Help") -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={"subject": subject, "body": body, "customer": {"email": email, "name": "Jana"}},
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def issue(stack: Stack, email: str) -> str:
    with transaction(stack.sessions) as session:
        issued = portal_links.issue_link(session, email, stack.settings.portal_link_minutes)
        assert issued is not None
        return issued[1]


def open_link(client: FlaskClient, path: str) -> Any:
    """Open a sign-in link and press its button, as a customer does."""
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def portal_client(stack: Stack, email: str) -> FlaskClient:
    client = stack.client()
    response = open_link(client, f"/portal/login/{issue(stack, email)}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def ask_for_link(client: FlaskClient, email: str, next_path: str = "") -> Any:
    page = client.get("/portal/login" + (f"?next={next_path}" if next_path else ""))
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/portal/login", data={"email": email, "csrf_token": token, "next": next_path}
    )


def link_in_mail(sink: MailSink, address: str) -> str:
    found: list[Any] = []

    def arrived() -> bool:
        found[:] = [m for m in list(sink.caught) if address in m.recipients]
        return bool(found)

    eventually(arrived)
    body = found[0].message.get_body(("plain",)).get_content()
    match = re.search(r"http://desk\.test(/portal/login/\S+)", body)
    assert match, body
    return match.group(1)
