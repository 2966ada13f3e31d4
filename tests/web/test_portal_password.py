"""A customer's optional portal password: set and removed in "my profile", then email and
password sign in beside the one-time link, with the same answer for an unknown address and a
wrong password, limits per client and per address, and a new password ends other sessions."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.core.models import Contact
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import create, portal_client, unique_email

PASSWORD = "correct horse battery"


def contact_hash(stack: Stack, email: str) -> str:
    with stack.sessions() as session:
        found = session.scalar(select(Contact.password_hash).where(Contact.email == email))
        return found or ""


def set_password(client: FlaskClient, password: str, repeat: str | None = None) -> Any:
    token = csrf_token(client.get("/portal/profile").get_data(as_text=True))
    return client.post(
        "/portal/profile/password",
        data={
            "pw-csrf_token": token,
            "pw-password": password,
            "pw-repeat": password if repeat is None else repeat,
        },
    )


def password_login(client: FlaskClient, email: str, password: str, next_path: str = "") -> Any:
    page = client.get("/portal/login" + (f"?next={next_path}" if next_path else ""))
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/portal/login/password",
        data={
            "pw-csrf_token": token,
            "pw-email": email,
            "pw-password": password,
            "pw-next": next_path,
        },
    )


def customer_with_password(stack: Stack) -> tuple[str, FlaskClient]:
    email = unique_email()
    create(stack, email)
    client = portal_client(stack, email)
    assert set_password(client, PASSWORD).status_code == 303
    return email, client


def test_a_customer_sets_a_password_and_signs_in_with_it(any_stack: Stack) -> None:
    email, _ = customer_with_password(any_stack)
    stored = contact_hash(any_stack, email)
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    number = create(any_stack, email, subject="Second kettle")
    client = any_stack.client()
    target = f"/portal/tickets/{number}"
    signed_in = password_login(client, email.upper(), PASSWORD, target)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == target
    assert "Second kettle" in client.get(target).get_data(as_text=True)


def test_an_unknown_address_and_a_wrong_password_get_the_same_answer(any_stack: Stack) -> None:
    email, _ = customer_with_password(any_stack)
    no_password = unique_email()
    create(any_stack, no_password)  # a contact who never set one
    answers = []
    for address, password in (
        (email, "wrong password!"),
        (unique_email(), PASSWORD),
        (no_password, PASSWORD),
    ):
        answer = password_login(any_stack.client(), address, password)
        answers.append((answer.status_code, "Wrong email address or password" in answer.text))
    assert answers == [(401, True)] * 3


def test_wrong_passwords_for_one_address_are_limited(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    email, _ = customer_with_password(stack)
    monkeypatch.setattr(stack.settings, "login_failure_limit", "3/minute")
    statuses = [password_login(stack.client(), email, f"wrong {i}").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Even the right password waits until the limit passes; another address does not.
    assert password_login(stack.client(), email, PASSWORD).status_code == 429
    other, _ = customer_with_password(stack)
    assert password_login(stack.client(), other, PASSWORD).status_code == 302


def test_password_sign_ins_per_client_address_are_limited(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    email, _ = customer_with_password(stack)
    monkeypatch.setattr(stack.settings, "login_rate_limit", "2/minute")
    statuses = [
        password_login(stack.client(), f"{i}-{email}", PASSWORD).status_code for i in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_signing_in_with_a_password_starts_a_new_session(any_stack: Stack) -> None:
    email, _ = customer_with_password(any_stack)
    client = any_stack.client()
    before = csrf_token(client.get("/portal/login").get_data(as_text=True))
    password_login(client, email, PASSWORD)
    after = csrf_token(client.get("/portal/tickets").get_data(as_text=True))
    assert before != after


def test_a_new_password_ends_other_sessions_but_this_one(any_stack: Stack) -> None:
    email, first = customer_with_password(any_stack)
    other = any_stack.client()
    assert password_login(other, email, PASSWORD).status_code == 302
    assert other.get("/portal/tickets").status_code == 200
    assert set_password(first, "another good password").status_code == 303
    assert first.get("/portal/tickets").status_code == 200
    assert other.get("/portal/tickets").status_code == 302  # off to sign in
    assert password_login(any_stack.client(), email, PASSWORD).status_code == 401
    assert password_login(any_stack.client(), email, "another good password").status_code == 302


def test_a_removed_password_no_longer_signs_in_and_the_link_still_does(any_stack: Stack) -> None:
    email, client = customer_with_password(any_stack)
    page = client.get("/portal/profile").get_data(as_text=True)
    assert "Remove my password" in page
    removed = client.post(
        "/portal/profile/password/remove", data={"rm-csrf_token": csrf_token(page)}
    )
    assert removed.status_code == 303
    assert contact_hash(any_stack, email) == ""
    assert password_login(any_stack.client(), email, PASSWORD).status_code == 401
    assert portal_client(any_stack, email).get("/portal/tickets").status_code == 200


@pytest.mark.parametrize(
    ("password", "repeat", "problem"),
    [
        ("short", None, "At least 10 characters."),
        ("x" * 201, None, "At most 200 characters."),
        ("with a\x00 NUL inside", None, "not filled in correctly"),  # the app's NUL guard
        ("with a\ttab inside", None, "No control characters"),
        ("\u202egnol hguone drowssap", None, None),  # an RTL override is a character like any
        ("<script>alert(1)</script>{{ ''.__class__ }}", None, None),  # hashed, never shown
        ("one good password", "another one", "The two passwords differ."),
    ],
)
def test_a_password_that_cannot_be_set_is_refused_with_a_reason(
    any_stack: Stack, password: str, repeat: str | None, problem: str | None
) -> None:
    email = unique_email()
    create(any_stack, email)
    client = portal_client(any_stack, email)
    answer = set_password(client, password, repeat)
    if problem is None:
        assert answer.status_code == 303
        assert password_login(any_stack.client(), email, password).status_code == 302
        return
    assert answer.status_code == 422 and problem in answer.text
    assert password not in answer.text  # never echoed
    assert contact_hash(any_stack, email) == ""


def test_a_password_form_without_its_csrf_token_is_refused(any_stack: Stack) -> None:
    email = unique_email()
    create(any_stack, email)
    client = portal_client(any_stack, email)
    forged = client.post(
        "/portal/profile/password", data={"pw-password": PASSWORD, "pw-repeat": PASSWORD}
    )
    assert forged.status_code == 400
    assert contact_hash(any_stack, email) == ""
    signin = any_stack.client().post(
        "/portal/login/password", data={"pw-email": email, "pw-password": PASSWORD}
    )
    assert signin.status_code == 400


def test_hostile_text_in_the_password_sign_in_is_refused_or_inert(any_stack: Stack) -> None:
    for address, password in (
        ("<script>alert(1)</script>@example.com", "{{ ''.__class__ }}"),
        ("{{ ''.__class__.__mro__ }}", "<script>alert(1)</script>"),
        ("a\x00b@example.com", "p\x00ss"),
        ("\u202emoc.elpmaxe@nosrep", "x" * 5000),
        ("x" * 5000 + "@example.com", PASSWORD),
    ):
        answer = password_login(any_stack.client(), address, password)
        assert answer.status_code in (401, 422), address[:40]
        text = answer.text
        assert "<script>alert" not in text and "<class 'str'>" not in text
        assert "(<class" not in text
