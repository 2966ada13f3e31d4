"""Signing in to the customer portal: the emailed one-time link (used once, short-lived,
limited, never telling whether an address is known), the portal's own session and language."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import PortalLink, utcnow
from tempodesk.mail.sink import MailSink
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import (
    ask_for_link,
    create,
    issue,
    link_in_mail,
    open_link,
    portal_client,
    unique_email,
)


def test_a_customer_signs_in_by_the_link_mailed_to_them(stack: Stack, sink: MailSink) -> None:
    email = unique_email()
    number = create(stack, email)
    client = stack.client()
    target = f"/portal/tickets/{number}"
    assert client.get(target).headers["Location"].startswith("/portal/login?next=")
    asked = ask_for_link(client, email.upper(), target)
    assert asked.status_code == 200 and "a sign-in link is on its way" in asked.get_data(True)
    path = link_in_mail(sink, email)
    with stack.sessions() as session:  # only the token's hash is stored
        assert path.split("/")[-1].split("?")[0] not in {
            link.token_hash for link in session.scalars(select(PortalLink))
        }
    signed_in = open_link(client, path)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == target
    assert number in client.get(target).get_data(as_text=True)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(stack: Stack, sink: MailSink) -> None:
    known, unknown = unique_email(), unique_email()
    create(stack, known)
    client = stack.client()
    answers = [ask_for_link(client, address) for address in (known, unknown)]
    assert [a.status_code for a in answers] == [200, 200]
    texts = [
        a.get_data(as_text=True).replace(address, "X")
        for a, address in zip(answers, (known, unknown), strict=True)
    ]
    assert texts[0] == texts[1]
    link_in_mail(sink, known)
    time.sleep(0.5)
    assert not [m for m in list(sink.caught) if unknown in m.recipients]


def test_a_used_link_is_refused(any_stack: Stack) -> None:
    email = unique_email()
    create(any_stack, email)
    path = f"/portal/login/{issue(any_stack, email)}"
    assert open_link(any_stack.client(), path).status_code == 302
    again = any_stack.client()
    assert open_link(again, path).status_code == 410
    assert again.get("/portal/tickets").status_code == 302  # not signed in


def test_an_expired_link_is_refused(any_stack: Stack) -> None:
    email = unique_email()
    create(any_stack, email)
    token = issue(any_stack, email)
    with transaction(any_stack.sessions) as session:
        link = session.scalar(select(PortalLink).order_by(PortalLink.id.desc()).limit(1))
        assert link is not None
        link.expires_at = utcnow() - timedelta(seconds=1)
    client = any_stack.client()
    assert open_link(client, f"/portal/login/{token}").status_code == 410
    assert open_link(client, "/portal/login/made-up-token").status_code == 410
    assert client.get("/portal/tickets").status_code == 302


def test_link_requests_per_address_are_limited(
    stack: Stack, sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "portal_address_rate_limit", "2/minute")
    email = unique_email()
    client = stack.client()
    codes = [ask_for_link(client, email).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_link_requests_per_client_address_are_limited(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "portal_login_rate_limit", "2/minute")
    client = stack.client()
    codes = [ask_for_link(client, unique_email()).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_signing_out_of_the_portal_ends_the_customers_session(any_stack: Stack) -> None:
    email = unique_email()
    create(any_stack, email)
    client = portal_client(any_stack, email)
    page = client.get("/portal/tickets")
    assert page.status_code == 200
    out = client.post("/portal/logout", data={"csrf_token": csrf_token(page.get_data(True))})
    assert out.status_code == 302
    assert client.get("/portal/tickets").status_code == 302


def test_signing_in_to_the_portal_starts_a_new_session_with_a_new_csrf_token(
    any_stack: Stack,
) -> None:
    email = unique_email()
    number = create(any_stack, email)
    client = any_stack.client()
    before = csrf_token(client.get("/portal/login").get_data(as_text=True))
    assert open_link(client, f"/portal/login/{issue(any_stack, email)}").status_code == 302
    stale = client.post(f"/portal/tickets/{number}", data={"body": "old", "csrf_token": before})
    assert stale.status_code == 400


def test_the_portal_and_the_desk_do_not_share_a_sign_in(any_stack: Stack) -> None:
    email = unique_email()
    number = create(any_stack, email)
    agent = any_stack.login("agent1")
    assert agent.get("/portal/tickets").status_code == 302
    assert agent.get(f"/portal/tickets/{number}").status_code == 302
    customer = portal_client(any_stack, email)
    assert customer.get("/desk/").headers["Location"].startswith("/login")
    assert customer.get(f"/desk/tickets/{number}").status_code == 302
    assert customer.get(f"/api/v1/tickets/{number}").status_code == 401


def test_a_hostile_address_is_echoed_inert(any_stack: Stack) -> None:
    answer = ask_for_link(any_stack.client(), '"><script>alert(1)</script>@example.com')
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_links_dead_for_a_day_are_removed_when_a_new_one_is_issued(any_stack: Stack) -> None:
    email = unique_email()
    create(any_stack, email)
    issue(any_stack, email)
    with transaction(any_stack.sessions) as session:
        old = session.scalar(select(PortalLink).order_by(PortalLink.id.desc()).limit(1))
        assert old is not None
        old.expires_at = utcnow() - timedelta(days=2)
        old_hash = old.token_hash
    issue(any_stack, email)
    with any_stack.sessions() as session:  # (SQLite may give the new row the old id)
        assert session.scalar(select(PortalLink).where(PortalLink.token_hash == old_hash)) is None


def test_the_portal_speaks_the_customers_language_unless_they_chose_one(any_stack: Stack) -> None:
    from tempodesk.core.models import Contact

    email = unique_email()
    create(any_stack, email)
    with transaction(any_stack.sessions) as session:
        contact = session.scalar(select(Contact).where(Contact.email == email))
        assert contact is not None
        contact.language = "cs"
    czech = portal_client(any_stack, email)
    assert "Moje požadavky" in czech.get("/portal/tickets").get_data(as_text=True)
    chose = any_stack.client()
    chose.get("/language/en?next=/portal/login")
    assert open_link(chose, f"/portal/login/{issue(any_stack, email)}").status_code == 302
    assert "My requests" in chose.get("/portal/tickets").get_data(as_text=True)
