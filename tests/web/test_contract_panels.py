"""The desk's contract panels: an agent with the customers right gives a fresh contact a
customer type, a contract and an entitlement on its page; what is left shows there and on the
ticket page; an agent without the right sees the panel but may not change it."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import AuditEntry, Contact, Contract
from tempodesk.sla.contracts import save_customer_type
from tests.helpers import Stack, csrf_token


def fresh_contact(stack: Stack) -> int:
    with transaction(stack.sessions) as session:
        contact = Contact(email=f"panel-{uuid.uuid4().hex[:10]}@example.com", name="Pavla Panel")
        session.add(contact)
        save_customer_type(session, "premium", "Premium")
        session.flush()
        return contact.id


def test_an_admin_gives_a_contact_a_type_a_contract_and_an_entitlement(stack: Stack) -> None:
    contact_id = fresh_contact(stack)
    client = stack.login("admin")
    page = client.get(f"/desk/contacts/{contact_id}")
    assert page.status_code == 200 and "No contracts." in page.get_data(as_text=True)
    token = csrf_token(page.get_data(as_text=True))
    typed = client.post(
        f"/desk/contacts/{contact_id}/customer-type", data={"csrf_token": token, "type": "premium"}
    )
    assert typed.status_code == 302
    reference = f"P-{uuid.uuid4().hex[:8]}"
    saved = client.post(
        f"/desk/contacts/{contact_id}/contracts",
        data={
            "csrf_token": token,
            "reference": reference,
            "name": "Gold",
            "valid_from": "2020-01-01",
        },
    )
    assert saved.status_code == 302
    with stack.sessions() as session:
        contract = session.scalar(select(Contract).where(Contract.reference == reference))
        assert contract is not None and contract.contact_id == contact_id
        contract_id = contract.id
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.customer_type == "premium"
    added = client.post(
        f"/desk/contracts/{contract_id}/entitlements",
        data={
            "csrf_token": token,
            "name": "Calls",
            "unit": "cases",
            "allocation": "3",
            "channels": ["phone"],
            "counts_on": "open",
            "on_exhausted": "warn",
        },
    )
    assert added.status_code == 302
    html = client.get(f"/desk/contacts/{contact_id}").get_data(as_text=True)
    assert "Gold" in html and re.search(r"3 of 3 cases", html)


def test_an_agent_without_the_customers_right_may_not_change_contracts(stack: Stack) -> None:
    contact_id = fresh_contact(stack)
    admin = stack.login("admin")
    token = csrf_token(admin.get(f"/desk/contacts/{contact_id}").get_data(as_text=True))
    agent = stack.login("agent1")
    refused = agent.post(
        f"/desk/contacts/{contact_id}/contracts",
        data={"csrf_token": token, "reference": "NOPE-1", "valid_from": "2020-01-01"},
    )
    assert refused.status_code in (403, 404, 400)
    with stack.sessions() as session:
        assert session.scalar(select(Contract).where(Contract.reference == "NOPE-1")) is None


def test_an_agent_records_time_spent_on_an_action_and_the_ticket_sums_it(stack: Stack) -> None:
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Time please",
            "body": "How long does it take?",
            "customer": {"email": f"time-{uuid.uuid4().hex[:8]}@example.com"},
        },
        headers=stack.api(),
    )
    number = created.get_json()["number"]
    agent = stack.login("admin")
    token = csrf_token(agent.get(f"/desk/tickets/{number}").get_data(as_text=True))
    url = f"/desk/tickets/{number}/actions/comment"
    refused = agent.post(url, data={"csrf_token": token, "body": "x", "time_spent": "ten"})
    assert refused.status_code == 422
    assert "Minutes as a whole number" in refused.get_data(as_text=True)
    for minutes in ("20", "5"):
        done = agent.post(url, data={"csrf_token": token, "body": "x", "time_spent": minutes})
        assert done.status_code == 302
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "Time spent on this ticket: 25 min" in page


def test_admins_keep_the_list_of_customer_types_and_each_save_is_audited(stack: Stack) -> None:
    name = f"vip{uuid.uuid4().hex[:6]}"
    admin = stack.login("admin")
    token = csrf_token(admin.get("/admin/sla").get_data(as_text=True))
    saved = admin.post("/admin/sla/customer-types", data={"csrf_token": token, "name": name})
    assert saved.status_code == 302
    assert f"<code>{name}</code>" in admin.get("/admin/sla").get_data(as_text=True)
    with stack.sessions() as session:
        entry = session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "customer_type.save")
            .order_by(AuditEntry.id.desc())
        )
        assert entry is not None and entry.after["name"] == name
    agent = stack.login("agent1")
    own = csrf_token(agent.get("/desk/profile").get_data(as_text=True))
    refused = agent.post("/admin/sla/customer-types", data={"csrf_token": own, "name": "x"})
    assert refused.status_code == 403
