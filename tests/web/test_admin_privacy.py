"""The admin page for personal data: admins download a person's export and forget a person
(with the address typed twice); agents may do neither."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from tempodesk.core.models import AuditEntry, Contact, Ticket
from tempodesk.privacy.subjects import digest
from tests.helpers import Stack, csrf_token
from tests.tempodesk.privacy.test_gdpr import a_customer


def test_an_admin_downloads_a_persons_export(stack: Stack) -> None:
    person = a_customer(stack)
    admin = stack.login("admin")
    token = csrf_token(admin.get("/admin/privacy").get_data(as_text=True))
    answer = admin.post(
        "/admin/privacy/export", data={"email": person["email"], "csrf_token": token}
    )
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:
        document = json.loads(archive.read("person.json"))
    assert sorted(t["number"] for t in document["tickets"]) == sorted(person["tickets"])
    entry = _audited(stack, "gdpr.export", person["email"])
    assert entry.actor == "admin" and entry.after == {"tickets": 2}


def _audited(stack: Stack, action: str, email: str) -> AuditEntry:
    """The one entry of a GDPR operation on this person: named by a digest, never the address."""
    with stack.sessions() as session:
        entries = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == action)
                .where(AuditEntry.object_id == digest(email))
            )
        )
    assert len(entries) == 1
    assert email not in json.dumps([entries[0].object_id, entries[0].before, entries[0].after])
    return entries[0]


def test_an_admin_forgets_a_person_after_typing_the_address_twice(stack: Stack) -> None:
    person = a_customer(stack)
    admin = stack.login("admin")
    token = csrf_token(admin.get("/admin/privacy").get_data(as_text=True))
    form = {"email": person["email"], "mode": "anonymise", "csrf_token": token}
    refused = admin.post("/admin/privacy/forget", data={**form, "confirm": "someone@else.example"})
    assert refused.status_code == 302
    with stack.sessions() as session:
        assert session.scalar(select(Contact).where(Contact.email == person["email"])) is not None
    done = admin.post(
        "/admin/privacy/forget", data={**form, "confirm": person["email"]}, follow_redirects=True
    )
    assert "Forgotten: 2 tickets." in done.get_data(as_text=True)
    with stack.sessions() as session:
        assert session.scalar(select(Contact).where(Contact.email == person["email"])) is None
        names = session.scalars(
            select(Ticket.customer_name).where(Ticket.number.in_(person["tickets"]))
        )
        assert set(names) == {"(anonymised)"}
    # The desk still shows them (the open one, whose workflow is gone, as closed).
    for number in person["tickets"]:
        page = admin.get(f"/desk/tickets/{number}")
        assert page.status_code == 200, number
        assert person["secret"] not in page.get_data(as_text=True)
    listed = admin.get("/api/v1/tickets/" + person["tickets"][0], headers=stack.api())
    assert listed.status_code == 200 and listed.get_json()["state"] == "closed"
    entry = _audited(stack, "gdpr.forget", person["email"])
    assert entry.actor == "admin" and entry.actor_kind == "agent"
    assert entry.after is not None and entry.after["mode"] == "anonymise"
    assert entry.after["tickets"] == 2 and entry.after["contact"] is True


def test_agents_may_neither_export_nor_forget(stack: Stack) -> None:
    agent = stack.login("agent1")
    assert agent.get("/admin/privacy").status_code == 403
    assert agent.post("/admin/privacy/export", data={"email": "a@b.example"}).status_code in (
        400,
        403,
    )
