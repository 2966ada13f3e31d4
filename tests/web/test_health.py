"""/healthz is liveness only; /readyz asks every dependency and shows the details to ops
(loopback, a signed-in admin, a token with the ops scope); /metrics follows the same rule."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tempodesk.app.devserver import free_port
from tempodesk.app.runtime import Runtime
from tempodesk.core.db import transaction
from tempodesk.core.models import User
from tempodesk.mail import mailboxes
from tempodesk.people import accounts
from tests.helpers import Stack
from web import create_app

SECRET_DETAIL = "IMAP ops@10.20.30.40:993: LOGIN failed for user ops"
OUTSIDE = {"REMOTE_ADDR": "192.0.2.44"}


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


def ops_token(stack: Stack, scope: str = "ops") -> dict[str, str]:
    with transaction(stack.sessions) as session:
        user = session.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        token = accounts.create_token(session, user, "monitoring", (scope,))
    return {"Authorization": f"Bearer {token}"}


def test_healthz_says_only_that_the_process_answers(stack: Stack, failing_mailbox: str) -> None:
    response = stack.client().get("/healthz", environ_base=OUTSIDE)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_gives_outsiders_the_status_and_ops_the_details(
    stack: Stack, failing_mailbox: str
) -> None:
    healthy = f"fine-{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        mailboxes.save(
            session, healthy, stack.settings, address=f"{healthy}@tempodesk.localhost", values={}
        )
    outside = stack.client().get("/readyz", environ_base=OUTSIDE)
    assert outside.status_code == 200 and outside.get_json() == {"status": "degraded"}
    for headers in ({"Authorization": "Bearer td_nothing"}, ops_token(stack, "api")):
        answer = stack.client().get("/readyz", environ_base=OUTSIDE, headers=headers)
        assert answer.get_json() == {"status": "degraded"}
    agent = stack.login("agent1").get("/readyz", environ_base=OUTSIDE)
    assert "10.20.30.40" not in agent.get_data(as_text=True)
    for response in (
        stack.client().get("/readyz"),  # loopback
        stack.client().get("/readyz", environ_base=OUTSIDE, headers=ops_token(stack)),
        stack.login("admin").get("/readyz", environ_base=OUTSIDE),
    ):
        body = response.get_json()
        assert response.status_code == 200
        assert body["checks"]["database"] == "ok" and body["checks"]["temporal"] == "ok"
        assert body["checks"]["mailboxes"][failing_mailbox] == "failing"
        assert body["checks"]["mailboxes"][healthy] == "ok"
        assert body["mailbox_errors"][failing_mailbox] == SECRET_DETAIL
        assert isinstance(body["quarantined_mail"], int)
    with transaction(stack.sessions) as session:
        box = mailboxes.row(session, healthy)
        assert box is not None
        box.enabled = False


def test_readyz_reports_a_dead_temporal_with_503(stack: Stack) -> None:
    dead = stack.settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    runtime = Runtime(dead)
    app = create_app({"TESTING": True}, runtime=runtime)
    try:
        ready = app.test_client().get("/readyz")
        outside = app.test_client().get("/readyz", environ_base=OUTSIDE)
        alive = app.test_client().get("/healthz")
    finally:
        runtime.close()
    assert ready.status_code == 503
    assert ready.get_json()["status"] == "unavailable"
    assert ready.get_json()["checks"] == {**ready.get_json()["checks"], "temporal": "unavailable"}
    assert ready.get_json()["checks"]["database"] == "ok"
    assert outside.status_code == 503 and outside.get_json() == {"status": "unavailable"}
    assert alive.status_code == 200


def _sample(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_a_created_ticket_for_ops_only(stack: Stack) -> None:
    before = stack.client().get("/metrics").get_data(as_text=True)
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Metrics",
            "body": "Count me.",
            "customer": {"email": "metrics@example.com"},
        },
        headers=stack.api(),
    )
    assert created.status_code == 201
    response = stack.client().get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    name, labels = "tempodesk_tickets_created_total", '{channel="api"}'
    assert _sample(text, name, labels) == _sample(before, name, labels) + 1
    assert _sample(text, "tempodesk_tickets_opened_total") >= 1  # the worker's opening step
    assert 'tempodesk_http_request_duration_seconds_count{endpoint="api.create_ticket"' in text
    assert re.search(r"^tempodesk_quarantined_mail \d", text, re.M)
    assert re.search(r"^tempodesk_pending_starts \d", text, re.M)
    assert stack.client().get("/metrics", environ_base=OUTSIDE).status_code == 403
    with_token = stack.client().get("/metrics", environ_base=OUTSIDE, headers=ops_token(stack))
    assert with_token.status_code == 200
