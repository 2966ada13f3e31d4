"""The organisation view: where those who manage every customer let an organisation share its
requests, its members read each other's requests in the portal (read only); everything else
stays "own requests only", on every page and in the workflow."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tempodesk.contracts import Actor, PerformActionInput
from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, Message, Organisation
from tempodesk.core.temporal import ActionRejected
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import create, portal_client, unique_email
from tests.web.test_portal_actions import answered, press, state_of

SECTION = "My organisation\u2019s requests"


def organisation(stack: Stack, *, shared: bool, members: int = 2) -> tuple[int, list[str]]:
    """A new organisation with members (their addresses)."""
    emails = [unique_email() for _ in range(members)]
    with transaction(stack.sessions) as session:
        org = Organisation(name=f"Org {uuid.uuid4().hex[:8]}", portal_shared=shared)
        session.add(org)
        session.flush()
        for i, email in enumerate(emails):
            session.add(Contact(name=f"Member {i}", email=email, organisation_id=org.id))
        return org.id, emails


def test_a_member_sees_a_colleagues_request_in_customer_wording(any_stack: Stack) -> None:
    _, (lucie, petr) = organisation(any_stack, shared=True)
    theirs = create(any_stack, petr, subject="Invoice for the chairs")
    stranger = create(any_stack, unique_email(), subject="Somebody else's kettle")
    client = portal_client(any_stack, lucie)
    page = client.get("/portal/tickets").get_data(as_text=True)
    assert SECTION in page
    section = page.split(SECTION, 1)[1]
    assert theirs in section and "Invoice for the chairs" in section
    assert "<td>Jana</td>" in section  # the requester (as the request names them)
    assert "Received" in section  # the customer label, not the desk's "New"
    assert stranger not in page
    request = client.get(f"/portal/tickets/{theirs}")
    assert request.status_code == 200
    text = request.get_data(as_text=True)
    assert "Invoice for the chairs" in text and "only they can answer it" in text
    assert 'name="body"' not in text  # no reply form
    assert client.get(f"/portal/tickets/{stranger}").status_code == 404


def test_a_colleagues_request_takes_no_reply_and_no_action(stack: Stack) -> None:
    _, (lucie, petr) = organisation(stack, shared=True)
    number = answered(stack, petr)
    client = portal_client(stack, lucie)
    token = csrf_token(client.get("/portal/tickets").get_data(as_text=True))
    reply = client.post(
        f"/portal/tickets/{number}", data={"body": "COLLEAGUE-REPLY", "csrf_token": token}
    )
    assert reply.status_code == 403
    assert press(client, number, "close", token, "waiting_for_customer").status_code == 403
    with stack.sessions() as session:
        assert session.scalar(select(Message).where(Message.body == "COLLEAGUE-REPLY")) is None
    assert state_of(stack, number) == "waiting_for_customer"


def test_the_workflow_refuses_a_colleague_the_customers_action(stack: Stack) -> None:
    """Straight to the Update: a customer actor acts on their own request only."""
    _, (lucie, petr) = organisation(stack, shared=True)
    number = answered(stack, petr)
    with stack.sessions() as session:
        colleague = session.scalar(select(Contact.id).where(Contact.email == lucie))
    actor = Actor(username=lucie, kind="customer", contact_id=colleague)
    with pytest.raises(ActionRejected) as refused:
        stack.runtime.temporal.perform_action(number, PerformActionInput("close", actor))
    assert refused.value.code == "forbidden"
    assert state_of(stack, number) == "waiting_for_customer"


def test_an_organisation_that_does_not_share_keeps_requests_apart(any_stack: Stack) -> None:
    _, (lucie, petr) = organisation(any_stack, shared=False)
    theirs = create(any_stack, petr, subject="Private matter")
    client = portal_client(any_stack, lucie)
    page = client.get("/portal/tickets").get_data(as_text=True)
    assert SECTION not in page and theirs not in page
    assert client.get(f"/portal/tickets/{theirs}").status_code == 404


def test_only_who_manages_every_customer_turns_sharing_on(any_stack: Stack) -> None:
    org_id, (member, _) = organisation(any_stack, shared=False)
    path = f"/desk/organisations/{org_id}/edit"
    with any_stack.sessions() as session:
        found = session.get(Organisation, org_id)
        assert found is not None
        name = found.name
    admin = any_stack.login("admin")
    form = admin.get(path).get_data(as_text=True)
    assert 'name="portal_shared"' in form
    saved = admin.post(
        path, data={"name": name, "portal_shared": "on", "csrf_token": csrf_token(form)}
    )
    assert saved.status_code == 302
    with any_stack.sessions() as session:
        assert session.get(Organisation, org_id).portal_shared is True  # type: ignore[union-attr]
    # An agent without the customers right edits the name; sharing stays as the admin set it.
    create(any_stack, member)  # agent2 sees the organisation of a customer he may serve
    agent = any_stack.login("agent2")
    form = agent.get(path).get_data(as_text=True)
    assert 'name="portal_shared"' not in form
    saved = agent.post(
        path,
        data={"name": name + " a.s.", "csrf_token": csrf_token(form)},
    )
    assert saved.status_code == 302
    with any_stack.sessions() as session:
        found = session.get(Organisation, org_id)
        assert found is not None and found.name == name + " a.s." and found.portal_shared


def test_the_demo_organisation_shares_its_requests(any_stack: Stack) -> None:
    create(any_stack, "petr@acme.example", subject="Invoice with our VAT number")
    client = portal_client(any_stack, "lucie@acme.example")
    page = client.get("/portal/tickets").get_data(as_text=True)
    assert SECTION in page and "Invoice with our VAT number" in page


def test_the_organisation_view_and_the_password_forms_speak_czech(any_stack: Stack) -> None:
    _, (lucie, petr) = organisation(any_stack, shared=True)
    theirs = create(any_stack, petr, subject="Faktura")
    with transaction(any_stack.sessions) as session:
        contact = session.scalar(select(Contact).where(Contact.email == lucie))
        assert contact is not None
        contact.language = "cs"
    client = portal_client(any_stack, lucie)
    page = client.get("/portal/tickets").get_data(as_text=True)
    assert "Požadavky mé organizace" in page and "Žadatel" in page and "Přijato" in page
    request = client.get(f"/portal/tickets/{theirs}").get_data(as_text=True)
    assert "odpovědět na něj může jen jeho autor" in request
    profile = client.get("/portal/profile").get_data(as_text=True)
    assert "Nastavit heslo" in profile and "Nové heslo znovu" in profile
    login = client.get("/portal/login").get_data(as_text=True)
    assert "Nebo se přihlaste heslem" in login and "Přihlásit se heslem" in login
