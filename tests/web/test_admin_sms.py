"""Admin → SMS gateway: the secret is sealed and never shown back; internal URLs are refused."""

from __future__ import annotations

from typing import Any

from tempodesk.core.vault import unseal
from tempodesk.telephony import sms
from tests.helpers import Stack, csrf_token


def save(stack: Stack, **values: str) -> Any:
    admin = stack.login("admin")
    token = csrf_token(admin.get("/admin/sms").get_data(as_text=True))
    form = {
        "provider": "generic",
        "url": "http://127.0.0.1:9/v1/sms",
        "sender": "777 000 111",
        "enabled": "on",
        "csrf_token": token,
        **values,
    }
    return admin.post("/admin/sms", data=form)


def test_an_admin_saves_the_gateway_with_its_secret_sealed(stack: Stack) -> None:
    assert save(stack, secret="s3cret-token").status_code == 302
    with stack.sessions() as session:
        row = sms.row(session)
        assert row is not None and row.sender == "+420777000111"  # E.164
        assert "s3cret-token" not in row.secret
        assert unseal(row.secret, stack.settings.session_secret()) == "s3cret-token"
    page = stack.login("admin").get("/admin/sms").get_data(as_text=True)
    assert "s3cret-token" not in page and "http://desk.test/hooks/sms/generic" in page
    assert save(stack).status_code == 302  # an empty secret keeps the stored one
    with stack.sessions() as session:
        row = sms.row(session)
        assert row is not None
        assert unseal(row.secret, stack.settings.session_secret()) == "s3cret-token"


def test_a_metadata_address_is_refused_at_save(stack: Stack) -> None:
    answer = save(stack, url="http://169.254.169.254/latest/meta-data/", secret="x")
    assert answer.status_code == 422
    assert "link-local or metadata" in answer.get_data(as_text=True)


def test_only_admins_see_the_gateway(stack: Stack) -> None:
    assert stack.login("agent1").get("/admin/sms").status_code == 403
