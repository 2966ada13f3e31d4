"""Admin → Triggers: create and edit a trigger with the fields its event and actions need,
refused like the API with the problem at its field, reorder, disable, delete, a mailbox's
auto-reply in one form; every change audited; admins only, CSRF on every form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tempodesk.core.models import AuditEntry, BusinessCalendar
from tests.helpers import Stack, csrf_token
from tests.web.test_triggers import put


@pytest.fixture
def admin(stack: Stack) -> Iterator[Any]:
    """An admin's browser; the stack is shared, so no trigger outlives the test."""
    yield stack.login("admin")
    assert put(stack, []).status_code == 200


def stored(stack: Stack) -> list[dict[str, Any]]:
    triggers: list[dict[str, Any]] = (
        stack.client().get("/api/v1/triggers", headers=stack.api()).get_json()["triggers"]
    )
    return triggers


def new_trigger(admin: Any, **fields: str) -> Any:
    page = admin.get("/admin/triggers/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "cond_rows": "2", "act_rows": "2", "enabled": "on"}
    return admin.post("/admin/triggers/new", data={**data, **fields})


def test_an_admin_creates_edits_reorders_disables_and_deletes_triggers(
    stack: Stack, admin: Any
) -> None:
    made = new_trigger(
        admin,
        name="Refunds are urgent",
        on="created",
        cond_field_0="subject",
        cond_op_0="contains",
        cond_value_0="refund",
        act_type_0="set_priority",
        act_value_0="4",
    )
    assert made.status_code == 302
    second = new_trigger(
        admin,
        name="Sales mail to the sales group",
        on="customer_message",
        cond_field_0="mailbox",
        cond_op_0="in",
        cond_value_0="sales, orders",
        act_type_0="set_field",
        act_name_0="queue",
        act_value_0="sales",
    )
    assert second.status_code == 302
    first, other = stored(stack)
    assert first["conditions"] == [{"field": "subject", "op": "contains", "value": "refund"}]
    assert first["actions"] == [{"type": "set_priority", "name": "", "value": 4}]
    assert other["conditions"][0]["value"] == ["sales", "orders"]

    listing = admin.get("/admin/triggers").get_data(as_text=True)
    assert listing.index("Refunds are urgent") < listing.index("Sales mail to the sales group")
    token = csrf_token(listing)
    moved = admin.post(
        f"/admin/triggers/{other['id']}/move", data={"csrf_token": token, "direction": "up"}
    )
    assert moved.status_code == 302
    assert [t["name"] for t in stored(stack)] == [other["name"], first["name"]]
    assert [t["id"] for t in stored(stack)] == [other["id"], first["id"]]  # the same triggers

    edit = admin.get(f"/admin/triggers/{first['id']}").get_data(as_text=True)
    assert 'value="refund"' in edit
    changed = admin.post(
        f"/admin/triggers/{first['id']}",
        data={
            "csrf_token": csrf_token(edit),
            "name": "Refunds are very urgent",
            "on": "created",
            "cond_rows": "1",
            "cond_field_0": "subject",
            "cond_op_0": "contains",
            "cond_value_0": "refund",
            "act_rows": "1",
            "act_type_0": "set_priority",
            "act_value_0": "3",
        },
    )
    assert changed.status_code == 302
    after = stored(stack)[1]
    assert after["id"] == first["id"] and after["name"] == "Refunds are very urgent"
    assert after["enabled"] is False  # the box was not ticked

    admin.post(f"/admin/triggers/{first['id']}/toggle", data={"csrf_token": token})
    assert stored(stack)[1]["enabled"] is True
    admin.post(f"/admin/triggers/{other['id']}/delete", data={"csrf_token": token})
    assert [t["name"] for t in stored(stack)] == ["Refunds are very urgent"]
    with stack.sessions() as session:
        saves = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "triggers.save").order_by(AuditEntry.id)
        ).all()
        assert saves[-1].actor == "admin"
        assert [t["name"] for t in (saves[-1].after or {})["triggers"]] == [after["name"]]


def test_a_trigger_not_valid_is_refused_with_the_problem_at_its_field(
    stack: Stack, admin: Any
) -> None:
    refused = new_trigger(
        admin,
        name="Idle without hours",
        on="idle",
        act_type_0="add_bcc",
        act_value_0="not an address",
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Idle for 1 to" in html and 'value="Idle without hours"' in html
    mail_action = new_trigger(
        admin, name="A BCC on creation", on="created", act_type_0="add_bcc", act_value_0="a@b.cz"
    )
    assert mail_action.status_code == 422
    assert "Only an outgoing trigger" in mail_action.get_data(as_text=True)
    assert stored(stack) == []


def test_an_idle_trigger_keeps_its_hours_and_calendar(stack: Stack, admin: Any) -> None:
    with stack.sessions() as session:
        calendar = session.scalars(select(BusinessCalendar.name)).first()
    made = new_trigger(
        admin,
        name="Nobody answered for a day",
        on="idle",
        hours="8",
        calendar=calendar or "",
        cond_field_0="state_category",
        cond_op_0="is",
        cond_value_0="open",
        act_type_0="set_priority",
        act_value_0="3",
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    [idle] = stored(stack)
    assert (idle["on"], idle["hours"], idle["calendar"]) == ("idle", 8, calendar or "")


def test_a_mailbox_auto_reply_is_one_form(stack: Stack, admin: Any) -> None:
    listing = admin.get("/admin/triggers").get_data(as_text=True)
    made = admin.post(
        "/admin/triggers/auto-reply",
        data={
            "csrf_token": csrf_token(listing),
            "mailbox": "support",
            "template": "ticket_received",
        },
    )
    assert made.status_code == 302
    [reply] = stored(stack)
    assert reply["on"] == "created" and reply["name"] == "Auto-reply: support"
    assert reply["conditions"] == [{"field": "mailbox", "op": "is", "value": "support"}]
    assert reply["actions"] == [
        {"type": "send_template", "name": "customer", "value": "ticket_received"}
    ]


def test_triggers_pages_are_for_admins_and_forms_need_csrf(stack: Stack, admin: Any) -> None:
    agent = stack.login("agent1")
    assert agent.get("/admin/triggers").status_code == 403
    token = csrf_token(agent.get("/desk/").get_data(as_text=True))
    forged = {"csrf_token": token, "name": "x", "on": "created", "act_rows": "1"}
    assert agent.post("/admin/triggers/new", data=forged).status_code == 403
    no_token = admin.post("/admin/triggers/new", data={"name": "x", "on": "created"})
    assert no_token.status_code == 400
    assert stored(stack) == []
