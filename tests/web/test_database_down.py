"""A read-only or unreachable database: the desk still reads, writes answer 503 with
Retry-After (never a 500), and no GET page writes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.app.devserver import free_port
from tempodesk.app.runtime import Runtime
from tempodesk.core.db import transaction
from tempodesk.core.models import Presence, TicketRead, User
from tempodesk.people import accounts
from tests.helpers import Stack, csrf_token
from tests.web.test_desk import new_ticket
from web import create_app

READ_ONLY = "options=-c%20default_transaction_read_only%3Don"


def _app(stack: Stack, database_url: str) -> Iterator[Flask]:
    settings = stack.settings.model_copy(update={"database_url": database_url})
    runtime = Runtime(settings, temporal=stack.runtime.temporal)
    yield create_app({"TESTING": True}, runtime=runtime)
    runtime.close()


@pytest.fixture
def read_only_app(stack: Stack) -> Iterator[Flask]:
    """The same PostgreSQL database, every transaction read-only (a replica, a full disk)."""
    url = stack.settings.database_url
    yield from _app(stack, f"{url}{'&' if '?' in url else '?'}{READ_ONLY}")


@pytest.fixture
def unreachable_app(stack: Stack) -> Iterator[Flask]:
    """A database on a port where nothing listens."""
    yield from _app(stack, f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")


def _signed_in(stack: Stack, app: Flask, username: str = "agent1") -> FlaskClient:
    """A client of ``app`` carrying the session cookie of a sign-in on the stack's own app
    (signing in writes; the same secret key makes the cookie good for both)."""
    cookie = stack.login(username).get_cookie("tempodesk_session")
    assert cookie is not None
    client = app.test_client()
    client.set_cookie("tempodesk_session", cookie.value)
    return client


def test_read_only_database_still_serves_the_ticket_page_and_the_list(
    stack: Stack, read_only_app: Flask
) -> None:
    number = new_ticket(stack)
    client = _signed_in(stack, read_only_app)
    page = client.get(f"/desk/tickets/{number}")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    assert number in page.get_data(as_text=True)
    listing = client.get("/desk/")
    assert listing.status_code == 200
    assert number in listing.get_data(as_text=True)


def test_a_write_on_a_read_only_database_answers_503_with_retry_after(
    stack: Stack, read_only_app: Flask
) -> None:
    number = new_ticket(stack)
    client = _signed_in(stack, read_only_app)
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    response = client.post(
        f"/desk/tickets/{number}/follow", data={"follow": "1", "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    api = read_only_app.test_client().post(
        "/api/v1/tickets",
        json={"subject": "s", "body": "b", "customer": {"email": "ro@example.com"}},
        headers=stack.api(),
    )
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "database_unavailable"
    assert api.headers["Retry-After"].isdigit()


def test_an_unreachable_database_answers_503_with_retry_after(
    stack: Stack, unreachable_app: Flask
) -> None:
    client = _signed_in(stack, unreachable_app)
    page = client.get("/desk/")
    assert page.status_code == 503
    assert page.headers["Retry-After"].isdigit()
    api = unreachable_app.test_client().get("/api/v1/tickets", headers=stack.api())
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "database_unavailable"


def test_opening_a_ticket_writes_nothing_the_page_reports_it_by_post(stack: Stack) -> None:
    number = new_ticket(stack)
    client = stack.login("agent1")
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    with stack.sessions() as session:
        assert session.get(TicketRead, ("agent1", number)) is None
        assert session.get(Presence, (number, "agent1")) is None
    seen = re.search(r'data-seen-seq="(\d+)"', page)
    assert seen, "the page says how far it shows the ticket"
    response = client.post(
        f"/desk/tickets/{number}/presence",
        json={"activity": "viewing", "read": int(seen.group(1))},
        headers={"X-CSRFToken": csrf_token(page)},
    )
    assert response.status_code == 200
    with stack.sessions() as session:
        read = session.get(TicketRead, ("agent1", number))
        assert read is not None and read.seen_seq == int(seen.group(1)) > 0
        assert session.scalar(select(Presence.activity).where(Presence.ticket_number == number))


def test_the_api_reads_from_a_read_only_database(stack: Stack, read_only_app: Flask) -> None:
    number = new_ticket(stack)
    with transaction(stack.sessions) as session:  # a token never used: its first use is noted
        user = session.scalar(select(User).where(User.username == "agent1"))
        assert user is not None
        token = accounts.create_token(session, user, "read-only test")
    response = read_only_app.test_client().get(
        f"/api/v1/tickets/{number}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["number"] == number


def test_every_desk_and_admin_page_without_parameters_reads_from_a_read_only_database(
    stack: Stack, read_only_app: Flask
) -> None:
    number = new_ticket(stack)
    client = _signed_in(stack, read_only_app, "admin")
    paths = sorted(
        rule.rule
        for rule in read_only_app.url_map.iter_rules()
        if "GET" in (rule.methods or set())
        and not rule.arguments
        and rule.rule.startswith(("/desk", "/admin"))
    )
    paths += [f"/desk/tickets/{number}", f"/desk/tickets/{number}/preview"]
    failed = {p: s for p in paths if (s := client.get(p).status_code) >= 500}
    assert failed == {}
