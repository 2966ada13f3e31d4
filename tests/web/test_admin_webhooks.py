"""Admin → Webhooks: create (the secret shown once), edit events, disable, the delivery log
with a test ping to a real receiver, and admins only."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tempodesk.core.models import WebhookSubscription
from tests.helpers import Stack, csrf_token
from tests.webhook_receiver import Receiver, eventually


@pytest.fixture
def receiver(stack: Stack) -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()
    with stack.sessions() as session:  # the stack is shared: no subscription outlives its test
        for hook in session.scalars(select(WebhookSubscription)).all():
            if str(server.port) in hook.url:
                session.delete(hook)
        session.commit()


def test_an_admin_creates_a_webhook_sees_its_secret_once_and_pings_it(
    stack: Stack, receiver: Receiver
) -> None:
    admin = stack.login("admin")
    page = admin.get("/admin/webhooks/new").get_data(as_text=True)
    created = admin.post(
        "/admin/webhooks/new",
        data={
            "csrf_token": csrf_token(page),
            "url": receiver.url(),
            "description": "CRM <sync>",
            "events": ["ticket.created", "note.created"],
            "enabled": "on",
        },
    )
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    secret = re.search(r'<code class="webhook-secret">([0-9a-f]+)</code>', html).group(1)  # type: ignore[union-attr]
    with stack.sessions() as session:
        hook = session.scalar(
            select(WebhookSubscription).where(WebhookSubscription.url == receiver.url())
        )
        assert hook is not None and secret not in hook.secret_sealed
        hook_id = hook.id
    edit = admin.get(f"/admin/webhooks/{hook_id}").get_data(as_text=True)
    assert secret not in edit  # shown once
    assert "CRM &lt;sync&gt;" in edit  # hostile text rendered inert

    pinged = admin.post(f"/admin/webhooks/{hook_id}/ping", data={"csrf_token": csrf_token(edit)})
    assert pinged.status_code == 302
    eventually(lambda: bool(receiver.received))
    [got] = receiver.received
    signature = hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Tempodesk-Signature"] == f"sha256={signature}"
    assert got.headers["X-Tempodesk-Event"] == "ping"
    eventually(
        lambda: "delivered" in admin.get(f"/admin/webhooks/{hook_id}").get_data(as_text=True)
    )

    saved = admin.post(
        f"/admin/webhooks/{hook_id}",
        data={"csrf_token": csrf_token(edit), "url": receiver.url(), "events": ["ticket.rated"]},
    )
    assert saved.status_code == 302
    listing = admin.get("/admin/webhooks").get_data(as_text=True)
    assert "ticket.rated" in listing and "Disabled" in listing
    assert "Disabled by admin." in listing


def test_a_webhook_needs_a_usable_url_and_an_event(stack: Stack) -> None:
    admin = stack.login("admin")
    page = admin.get("/admin/webhooks/new").get_data(as_text=True)
    refused = admin.post(
        "/admin/webhooks/new",
        data={"csrf_token": csrf_token(page), "url": "gopher://example.com/", "enabled": "on"},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Only http and https URLs." in html and "Choose at least one event." in html


def test_webhooks_are_for_admins_only(stack: Stack) -> None:
    assert stack.login("agent1").get("/admin/webhooks").status_code == 403
