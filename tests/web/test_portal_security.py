"""What a hostile customer (or a page they were lured to) may try on the portal: fields that
would change the ticket, forms without their CSRF token, hostile text in every field. Each is
refused or rendered inert; the ticket stays as it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tempodesk.core.models import Contact, Message
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import create, eventually, issue, portal_client, unique_email

HOSTILE = {
    "script": '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "template": "{{ ''.__class__.__mro__ }}{% for x in range(9) %}X{% endfor %}",
    "rtl": "invoice\u202efdp.exe",
}


def detail(stack: Stack, number: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    )
    return found


def test_a_portal_reply_carrying_state_changing_fields_changes_nothing_but_the_thread(
    stack: Stack,
) -> None:
    email = unique_email()
    number = create(stack, email)
    before = detail(stack, number)
    client = portal_client(stack, email)
    token = csrf_token(client.get(f"/portal/tickets/{number}").get_data(as_text=True))
    sent = client.post(
        f"/portal/tickets/{number}",
        data={
            "csrf_token": token,
            "body": "PLAIN-CUSTOMER-REPLY",
            "state": "closed",
            "assignee": "agent2",
            "priority": "urgent",
            "group": "Billing",
            "action": "close",
            "internal": "1",
            "sender_role": "agent",
            "channel": "email",
            "subject": "Changed subject",
        },
    )
    assert sent.status_code == 302

    def arrived() -> bool:
        with stack.sessions() as session:
            return (
                session.scalar(select(Message).where(Message.body == "PLAIN-CUSTOMER-REPLY"))
                is not None
            )

    eventually(arrived)
    with stack.sessions() as session:
        message = session.scalar(select(Message).where(Message.body == "PLAIN-CUSTOMER-REPLY"))
        assert message is not None
        assert message.sender_role == "customer" and not message.internal
        assert message.channel == "portal"
    after = detail(stack, number)
    for key in ("state", "assignee", "priority", "group", "subject"):
        assert after[key] == before[key], key


def _portal_forms(number: str) -> dict[str, dict[str, str]]:
    """Every portal form's post, without its CSRF token."""
    return {
        f"/portal/tickets/{number}": {"body": "forged"},
        f"/portal/tickets/{number}/actions/close": {"state": "new"},
        "/portal/profile": {"name": "Forged", "language": "en", "non_essential_mail": ""},
        "/portal/profile/password": {"pw-password": "forged password", "pw-repeat": "x"},
        "/portal/profile/password/remove": {},
        "/portal/logout": {},
    }


def test_every_portal_form_without_its_csrf_token_is_refused(stack: Stack) -> None:
    email = unique_email()
    number = create(stack, email)
    client = portal_client(stack, email)
    for path, data in _portal_forms(number).items():
        assert client.post(path, data=data).status_code == 400, path
    with stack.sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.email == email))
        assert contact is not None and contact.name != "Forged" and not contact.password_hash
    assert client.get("/portal/tickets").status_code == 200  # still signed in: no logout
    anonymous = stack.client()
    assert anonymous.post("/portal/login", data={"email": email}).status_code == 400
    link = f"/portal/login/{issue(stack, email)}"
    assert anonymous.post(link, data={}).status_code in (200, 400)
    assert anonymous.get("/portal/tickets").status_code == 302  # the link did not sign in


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_text_in_a_reply_is_rendered_inert_on_the_portal_and_the_desk(
    stack: Stack, kind: str
) -> None:
    email = unique_email()
    number = create(stack, email)
    client = portal_client(stack, email)
    token = csrf_token(client.get(f"/portal/tickets/{number}").get_data(as_text=True))
    body = f"{kind}: {HOSTILE[kind]}"
    assert (
        client.post(f"/portal/tickets/{number}", data={"csrf_token": token, "body": body})
    ).status_code == 302

    def arrived() -> bool:
        with stack.sessions() as session:
            stored = select(Message).where(Message.body == body, Message.attached.is_(True))
            return session.scalar(stored) is not None

    eventually(arrived)
    portal = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    desk = stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    for page in (portal, desk):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "(<class 'str'>" not in page and "XXXXXXXXX" not in page  # never evaluated
    if kind == "template":
        assert "{{ &#39;&#39;.__class__.__mro__ }}" in portal
    if kind == "rtl":
        assert "\u202e" in portal  # kept as text, inside the escaped message


def test_a_reply_with_a_nul_or_only_whitespace_is_refused_with_a_reason(stack: Stack) -> None:
    email = unique_email()
    number = create(stack, email)
    client = portal_client(stack, email)
    page = f"/portal/tickets/{number}"
    token = csrf_token(client.get(page).get_data(as_text=True))
    nul = client.post(page, data={"csrf_token": token, "body": "a\x00b"})
    assert nul.status_code == 422 and "not filled in correctly" in nul.text
    empty = client.post(page, data={"csrf_token": token, "body": "   "})
    assert empty.status_code == 422 and "Enter a message." in empty.text
    with stack.sessions() as session:
        messages = session.scalars(select(Message).where(Message.ticket_number == number))
        assert [m.body for m in messages] == ["Help"]


def test_a_very_long_reply_is_refused_or_kept_whole(stack: Stack) -> None:
    email = unique_email()
    number = create(stack, email)
    client = portal_client(stack, email)
    page = f"/portal/tickets/{number}"
    token = csrf_token(client.get(page).get_data(as_text=True))
    body = "long " * 200_000  # a megabyte
    answer = client.post(page, data={"csrf_token": token, "body": body})
    assert answer.status_code in (302, 413, 422), answer.status_code
    if answer.status_code != 302:
        return
    stored = body.strip()

    def arrived() -> bool:
        with stack.sessions() as session:
            bodies = session.scalars(
                select(Message.body).where(Message.ticket_number == number)
            ).all()
            return any(len(b) >= len(stored) for b in bodies)

    eventually(arrived)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_text_in_the_profile_name_is_rendered_inert(any_stack: Stack, kind: str) -> None:
    email = unique_email()
    create(any_stack, email)
    client = portal_client(any_stack, email)
    token = csrf_token(client.get("/portal/profile").get_data(as_text=True))
    saved = client.post(
        "/portal/profile",
        data={"csrf_token": token, "name": HOSTILE[kind], "language": "en"},
    )
    assert saved.status_code == 303
    page = client.get("/portal/profile").get_data(as_text=True)
    assert "<script>alert" not in page and "(<class 'str'>" not in page
    assert "XXXXXXXXX" not in page


@pytest.mark.parametrize(
    ("name", "reason"),
    [("x" * 201, "At most 200 characters."), ("Jana\x00", "not filled in correctly")],
)
def test_a_bad_profile_name_is_refused_with_a_reason(
    any_stack: Stack, name: str, reason: str
) -> None:
    email = unique_email()
    create(any_stack, email)
    client = portal_client(any_stack, email)
    token = csrf_token(client.get("/portal/profile").get_data(as_text=True))
    refused = client.post(
        "/portal/profile", data={"csrf_token": token, "name": name, "language": "en"}
    )
    assert refused.status_code == 422 and reason in refused.text
    with any_stack.sessions() as session:
        assert session.scalar(select(Contact.name).where(Contact.email == email)) == "Jana"


@pytest.mark.parametrize(
    "address",
    [
        HOSTILE["script"] + "@example.com",
        HOSTILE["template"],
        HOSTILE["rtl"] + "@example.com",
        "a\x00b@example.com",
        "x" * 5000 + "@example.com",
    ],
)
def test_hostile_text_in_the_login_address_is_refused_or_inert(
    any_stack: Stack, address: str
) -> None:
    client = any_stack.client()
    token = csrf_token(client.get("/portal/login").get_data(as_text=True))
    answer = client.post("/portal/login", data={"csrf_token": token, "email": address})
    assert answer.status_code in (200, 422)
    assert "<script>alert" not in answer.text and "(<class 'str'>" not in answer.text
