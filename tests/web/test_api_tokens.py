"""What an API request costs the web: tokens remembered for a few seconds, no session work."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from tempodesk.core.db import transaction
from tempodesk.core.models import ApiToken
from tempodesk.people import accounts
from tempodesk.people.token_cache import TokenCache
from tests.helpers import Stack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fresh_token(stack: Stack, scopes: tuple[str, ...] = ("api",)) -> tuple[str, str]:
    """A new agent of Support with a token of their own (nothing shared is changed)."""
    username = f"tok-{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        user = accounts.create_user(session, username, "a-long-password", groups=["Support"])
        session.flush()
        token = accounts.create_token(session, user, "test", scopes)
    return username, token


def revoke(stack: Stack, token: str) -> None:
    with transaction(stack.sessions) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == accounts.token_digest(token))
            .values(revoked=True)
        )


def get_tickets(stack: Stack, token: str) -> int:
    response = stack.client().get(
        "/api/v1/tickets?view=open", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


@pytest.fixture
def clock(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The app's token cache on a clock the test moves."""
    clock = Clock()
    cache = TokenCache(stack.settings.api_token_cache_seconds, clock=clock)
    monkeypatch.setitem(stack.app.extensions, "tempodesk_tokens", cache)
    return clock


def test_a_revoked_token_is_refused_once_the_cache_window_has_passed(
    stack: Stack, clock: Clock
) -> None:
    _, token = fresh_token(stack)
    assert get_tickets(stack, token) == 200
    revoke(stack, token)
    clock.now += stack.settings.api_token_cache_seconds - 1
    assert get_tickets(stack, token) == 200  # the documented window: remembered as valid
    clock.now += 1.5
    assert get_tickets(stack, token) == 401
    clock.now += 100
    assert get_tickets(stack, token) == 401  # a refused token is never remembered as valid


def test_a_revoked_token_is_refused_at_once_when_the_cache_is_off(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(stack.app.extensions, "tempodesk_tokens", TokenCache(0))
    _, token = fresh_token(stack)
    assert get_tickets(stack, token) == 200
    revoke(stack, token)
    assert get_tickets(stack, token) == 401


def test_a_remembered_token_keeps_its_scopes(stack: Stack, clock: Clock) -> None:
    _, token = fresh_token(stack, ("inbound",))
    assert get_tickets(stack, token) == 401
    assert get_tickets(stack, token) == 401


def test_a_remembered_token_acts_with_its_users_rights(stack: Stack, clock: Clock) -> None:
    username, token = fresh_token(stack)
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(2):  # looked up, then remembered
        response = stack.client().post(
            "/api/v1/tickets",
            json={
                "subject": "Cached token",
                "body": "Who am I?",
                "customer": {"email": f"{username}@example.com"},
            },
            headers=headers,
        )
        assert response.status_code == 201, response.get_json()
        number = response.get_json()["number"]
        detail = stack.client().get(f"/api/v1/tickets/{number}", headers=headers)
        assert detail.status_code == 200


def test_api_answers_neither_read_nor_set_a_session_cookie(stack: Stack) -> None:
    client = stack.login("agent1")  # a browser that also holds a desk session
    response = client.get("/api/v1/tickets?view=open", headers=stack.api("agent1"))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    refused = client.get("/api/v1/tickets?view=open")  # the desk's cookie is not a sign-in
    assert refused.status_code == 401
    assert "Set-Cookie" not in refused.headers
