"""Signing in: where it may send you, what it renews, how it is limited, the second factor."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.app.runtime import Runtime
from tempodesk.core.db import transaction
from tempodesk.core.models import User
from tempodesk.people import accounts
from tests.helpers import Stack, csrf_token
from web import create_app


def sign_in(client: FlaskClient, stack: Stack, username: str, url: str = "/login", **extra: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": stack.logins[username], "csrf_token": token}
    data.update(extra)
    return client.post(url, data=data)


@pytest.mark.parametrize(
    "target",
    [
        "/%5Cevil.example",
        "/%5C/evil.example",
        "//evil.example",
        "https://evil.example/",
        "/%09/evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site(stack: Stack, target: str) -> None:
    response = sign_in(stack.client(), stack, "agent1", f"/login?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/desk/"


def test_next_keeps_a_path_on_this_site(stack: Stack) -> None:
    response = sign_in(stack.client(), stack, "agent1", "/login?next=/desk/profile")
    assert response.headers["Location"] == "/desk/profile"


def test_csrf_token_from_before_sign_in_no_longer_works_after(stack: Stack) -> None:
    client = stack.client()
    before = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": "agent1", "password": stack.logins["agent1"], "csrf_token": before},
    )
    assert response.status_code == 302
    refused = client.post("/logout", data={"csrf_token": before})
    assert refused.status_code == 400
    after = csrf_token(client.get("/desk/profile").get_data(as_text=True))
    assert after != before
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302


def secure_app(stack: Stack):  # type: ignore[no-untyped-def]
    runtime = Runtime(stack.settings.model_copy(update={"secure_cookies": True}))
    runtime.__dict__["sessions"] = stack.sessions
    return create_app({"TESTING": True}, runtime=runtime)


def test_secure_cookies_setting_marks_cookies_secure_and_sends_hsts(stack: Stack) -> None:
    client = secure_app(stack).test_client()
    response = sign_in(client, stack, "agent1", remember="y")
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} >= {"tempodesk_session", "remember_token"}
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_without_the_setting_there_is_no_hsts(stack: Stack) -> None:
    response = stack.client().get("/login")
    assert "Strict-Transport-Security" not in response.headers


def attempt(stack: Stack, address: str, username: str, password: str):  # type: ignore[no-untyped-def]
    client = stack.app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def test_sign_in_attempts_per_address_are_limited_before_any_hashing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "login_rate_limit", "3/minute")
    monkeypatch.setattr("tempodesk.people.accounts.check_password_hash", counting := Counter())
    for _ in range(3):
        assert attempt(stack, "192.0.2.10", "agent1", "wrong").status_code == 401
    hashed = counting.calls
    refused = attempt(stack, "192.0.2.10", "agent1", stack.logins["agent1"])
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert counting.calls == hashed  # refused before the expensive part
    # Another address is not affected.
    assert attempt(stack, "192.0.2.11", "agent1", stack.logins["agent1"]).status_code == 302


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, pwhash: str, password: str) -> bool:
        from werkzeug.security import check_password_hash

        self.calls += 1
        return check_password_hash(pwhash, password)


def test_failed_sign_ins_per_username_are_limited_from_any_address(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "login_failure_limit", "2/minute")
    for address in ("198.51.100.1", "198.51.100.2"):
        assert attempt(stack, address, "agent2", "guess").status_code == 401
    refused = attempt(stack, "198.51.100.3", "Agent2", stack.logins["agent2"])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many attempts" in refused.get_data(as_text=True)
    # Successful sign-ins of another user do not count against it, nor are they limited.
    for _ in range(3):
        assert attempt(stack, "198.51.100.4", "agent1", stack.logins["agent1"]).status_code == 302


def remembered_client(stack: Stack, username: str) -> tuple[FlaskClient, str]:
    """A signed-in client, and its remember-me cookie on its own."""
    client = stack.client()
    response = sign_in(client, stack, username, remember="y")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_"))
    return client, cookie.split(";")[0].split("=", 1)[1]


def with_only_remember_cookie(stack: Stack, value: str) -> FlaskClient:
    client = stack.client()
    client.set_cookie("remember_token", value, domain="localhost")
    return client


def set_password(stack: Stack, username: str, password: str) -> None:
    with transaction(stack.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        accounts.set_password(user, password)


def test_remember_me_signs_in_a_new_browser_session(stack: Stack) -> None:
    _, remember = remembered_client(stack, "agent2")
    assert with_only_remember_cookie(stack, remember).get("/desk/").status_code == 200


def test_password_change_ends_remember_me_and_open_sessions(stack: Stack) -> None:
    create_agent(stack, "rotating", "first-password")
    client, remember = remembered_client(stack, "rotating")
    assert client.get("/desk/").status_code == 200
    set_password(stack, "rotating", "second-password")
    assert with_only_remember_cookie(stack, remember).get("/desk/").status_code == 302
    assert client.get("/desk/").status_code == 302
    stack.logins["rotating"] = "second-password"
    assert remembered_client(stack, "rotating")[0].get("/desk/").status_code == 200


def create_agent(stack: Stack, username: str, password: str, *, is_admin: bool = False) -> None:
    with transaction(stack.sessions) as session:
        if session.scalar(select(User).where(User.username == username)) is None:
            accounts.create_user(session, username, password, is_admin=is_admin)
    stack.logins[username] = password


# ------------------------------------------------------------------ TOTP (admins)


def enrol_totp(stack: Stack, username: str) -> str:
    """Set up the second factor from the profile page; returns the secret shown there."""
    client = stack.login(username)
    profile = client.get("/desk/profile").get_data(as_text=True)
    assert "Two-step sign-in" in profile
    setup = client.post("/desk/profile/totp", data={"csrf_token": csrf_token(profile)})
    assert setup.status_code == 200
    html = setup.get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)  # type: ignore[union-attr]
    assert "otpauth://totp/" in html
    wrong = client.post(
        "/desk/profile/totp/confirm", data={"csrf_token": csrf_token(html), "code": "000000"}
    )
    assert wrong.status_code == 422
    confirmed = client.post(
        "/desk/profile/totp/confirm",
        data={"csrf_token": csrf_token(html), "code": pyotp.TOTP(secret).now()},
    )
    assert confirmed.status_code == 302
    return secret


def test_admin_enrols_totp_and_then_sign_in_asks_for_the_code(stack: Stack) -> None:
    create_agent(stack, "otp-admin", "otp-admin-pass", is_admin=True)
    secret = enrol_totp(stack, "otp-admin")
    with stack.sessions() as session:
        stored = session.scalar(select(User.totp_secret).where(User.username == "otp-admin"))
    assert stored and secret not in stored  # sealed at rest

    client = stack.client()
    response = sign_in(client, stack, "otp-admin", "/login?next=/desk/profile")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert client.get("/desk/").status_code == 302  # not signed in by the password alone
    page = client.get("/login/code").get_data(as_text=True)
    bad = client.post("/login/code", data={"csrf_token": csrf_token(page), "code": "123456"})
    assert bad.status_code == 401
    good = client.post(
        "/login/code", data={"csrf_token": csrf_token(page), "code": pyotp.TOTP(secret).now()}
    )
    assert good.status_code == 302 and good.headers["Location"] == "/desk/profile"
    assert client.get("/desk/").status_code == 200


def test_the_code_page_without_a_password_first_signs_nobody_in(stack: Stack) -> None:
    client = stack.client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login/code", data={"csrf_token": csrf_token(page), "code": "1"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/desk/").status_code == 302


def test_wrong_codes_count_as_failed_sign_ins(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_agent(stack, "otp-limited", "otp-limited-pass", is_admin=True)
    enrol_totp(stack, "otp-limited")
    monkeypatch.setattr(stack.settings, "login_failure_limit", "2/minute")
    client = stack.client()
    sign_in(client, stack, "otp-limited")
    page = client.get("/login/code").get_data(as_text=True)
    codes = [
        client.post("/login/code", data={"csrf_token": csrf_token(page), "code": "000000"})
        for _ in range(3)
    ]
    assert [c.status_code for c in codes] == [401, 401, 429]


def test_agents_are_not_offered_totp(stack: Stack) -> None:
    client = stack.login("agent1")
    profile = client.get("/desk/profile").get_data(as_text=True)
    assert "Two-step sign-in" not in profile
    refused = client.post("/desk/profile/totp", data={"csrf_token": csrf_token(profile)})
    assert refused.status_code == 403


def test_a_code_signs_in_once(stack: Stack) -> None:
    create_agent(stack, "otp-replay", "otp-replay-pass", is_admin=True)
    secret = enrol_totp(stack, "otp-replay")
    code = pyotp.TOTP(secret).now()
    statuses = []
    for _ in range(2):
        client = stack.client()
        sign_in(client, stack, "otp-replay")
        page = client.get("/login/code").get_data(as_text=True)
        response = client.post("/login/code", data={"csrf_token": csrf_token(page), "code": code})
        statuses.append(response.status_code)
    assert statuses == [302, 401]


def test_an_unreachable_limit_store_falls_back_to_counting_in_this_process(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Down:
        def __getattr__(self, name: str) -> Any:
            raise ConnectionError("redis is away")

    limiter = stack.app.extensions["tempodesk_limiter"]
    monkeypatch.setattr(type(limiter), "limiter", property(lambda self: Down()))
    monkeypatch.setattr(stack.settings, "login_rate_limit", "2/minute")
    statuses = [attempt(stack, "192.0.2.77", "agent1", "wrong").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_signing_out_ends_the_whole_session(stack: Stack) -> None:
    client = stack.login("agent1")
    token = csrf_token(client.get("/desk/profile").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    reused = client.post(
        "/login",
        data={"username": "agent1", "password": stack.logins["agent1"], "csrf_token": token},
    )
    assert reused.status_code == 400
