"""The operations page: an SMTP outage shows as a retrying activity with its error and a link
to the workflow; failed ticket starts are retried from it; agents may not see it."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape
from sqlalchemy import delete, select

from tempodesk.core.db import transaction
from tempodesk.core.models import AuditEntry, PendingStart
from tempodesk.mail.sink import MailSink
from tests.helpers import Stack, csrf_token


def _ticket(stack: Stack) -> str:
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Ops outage",
            "body": "Help.",
            "customer": {"email": f"ops-{uuid.uuid4().hex[:6]}@example.com"},
        },
        headers=stack.api(),
    )
    assert created.status_code == 201
    return str(created.get_json()["number"])


def _eventually(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_an_smtp_outage_shows_as_a_retrying_send_with_its_error(
    stack: Stack, sink: MailSink
) -> None:
    number = _ticket(stack)
    sink.refuse_connections = True
    reply = stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "We are on it."}},
        headers=stack.api(),
    )
    assert reply.status_code == 200
    admin = stack.login("admin")

    def page() -> str | None:
        html = admin.get("/admin/ops").get_data(as_text=True)
        return html if f"ticket-{number}</a>" in html else None

    html = _eventually(page)
    assert html is not None, "the retrying send never showed"
    row = html[html.index(f"ticket-{number}</a>") :]
    row = row[: row.index("</tr>")]
    assert "send_mail" in row and "554" in row
    assert stack.settings.workflow_url(f"ticket-{number}") in html
    assert "SMTP server" in html and "TicketStateCategory" in html  # the UI's queries
    sink.refuse_connections = False
    assert sink.wait_for(1, timeout=60)  # the retry goes through once the server is back


def test_a_dead_lettered_start_is_retried_from_the_page_and_audited(stack: Stack) -> None:
    number = f"OPS-{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        session.add(
            PendingStart(
                ticket_number=number,
                payload="{}",
                attempts=5,
                last_error="OpeningFailed: a test",
                dead_at=datetime.now(UTC),
                next_attempt_at=datetime.now(UTC),
            )
        )
    try:
        admin = stack.login("admin")
        html = admin.get("/admin/ops").get_data(as_text=True)
        assert number in html and str(escape("OpeningFailed: a test")) in html
        answer = admin.post(
            "/admin/ops/pending/retry",
            data={"csrf_token": csrf_token(html), "number": number},
        )
        assert answer.status_code == 302
        with stack.sessions() as session:
            row = session.get(PendingStart, number)
            assert row is not None and row.dead_at is None and row.attempts == 0
            entry = session.scalar(select(AuditEntry).where(AuditEntry.object_id == number))
            assert entry is not None and entry.action == "pending.retry"
            assert entry.actor == "admin" and entry.after == {"count": 1}
    finally:
        with transaction(stack.sessions) as session:  # the worker must not try this one
            session.execute(delete(PendingStart).where(PendingStart.ticket_number == number))


def test_agents_get_403_on_the_operations_page(stack: Stack) -> None:
    assert stack.login("agent1").get("/admin/ops").status_code == 403
