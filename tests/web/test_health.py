"""/healthz for anyone (counts and ok/fail only), /readyz with the details for the signed-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tempodesk.core.db import transaction
from tempodesk.mail import mailboxes
from tests.helpers import Stack

SECRET_DETAIL = "IMAP ops@10.20.30.40:993: LOGIN failed for user ops"


@pytest.fixture
def failing_mailbox(stack: Stack) -> Iterator[str]:
    name = f"health-{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        box = mailboxes.save(
            session, name, stack.settings, address=f"{name}@tempodesk.localhost", values={}
        )
        box.last_error = SECRET_DETAIL
    yield name
    with transaction(stack.sessions) as session:
        box = mailboxes.row(session, name)
        assert box is not None
        box.enabled, box.last_error = False, ""


def test_healthz_gives_anonymous_callers_counts_and_no_error_text(
    stack: Stack, failing_mailbox: str
) -> None:
    response = stack.client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["failing_mailboxes"] >= 1
    assert isinstance(body["quarantined_mail"], int)
    assert body["status"] in ("ok", "degraded")
    text = response.get_data(as_text=True)
    assert "10.20.30.40" not in text and failing_mailbox not in text and "LOGIN" not in text


def test_readyz_shows_the_details_only_to_the_signed_in(stack: Stack, failing_mailbox: str) -> None:
    anonymous = stack.client().get("/readyz")
    assert anonymous.status_code == 401
    assert "10.20.30.40" not in anonymous.get_data(as_text=True)
    bad_token = stack.client().get("/readyz", headers={"Authorization": "Bearer td_nothing"})
    assert bad_token.status_code == 401
    for response in (
        stack.login("agent1").get("/readyz"),
        stack.client().get("/readyz", headers=stack.api()),
    ):
        assert response.status_code == 200
        assert response.get_json()["mailbox_errors"][failing_mailbox] == SECRET_DETAIL
