"""Telephony end to end: real PostgreSQL, Temporal, worker and the stand-in PBX over AMI.

Click-to-call from a ticket (a double click starts one call), its outcome on the ticket and
the contact, a retried start that never dials twice, the screen pop of an incoming call,
attaching it or making a ticket of it, missed calls, the cloud PBX's signed webhooks,
records on a contact, and agents' extensions."""

from __future__ import annotations

import json
import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.contracts.calls import StartCallInput
from tempodesk.core.db import transaction
from tempodesk.core.models import CommRecord, Contact, Message, Ticket, User
from tempodesk.telephony import calls, cti
from tests.helpers import Stack, csrf_token
from tests.web.phone_helpers import Pbx, pbx_fixture  # noqa: F401  (the fixture "pbx")
from tests.web.portal_helpers import eventually


def phone_number() -> str:
    return f"+420777{uuid.uuid4().int % 1_000_000:06d}"


def ticket_for(stack: Stack, phone: str, subject: str = "Call me back") -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": subject,
            "body": "Please call me.",
            "customer": {"email": f"caller-{uuid.uuid4().hex[:8]}@example.org", "phone": phone},
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    number: str = response.get_json()["number"]
    return number


def press(agent: FlaskClient, number: str, action: str, request_id: str = "", **fields: str) -> str:
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    response = agent.post(
        f"/desk/tickets/{number}/actions/{action}",
        data={
            "csrf_token": csrf_token(page),
            "request_id": request_id or str(uuid.uuid4()),
            **fields,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return page


def ticket_state(stack: Stack, number: str) -> str:
    with stack.sessions() as session:
        return str(session.scalar(select(Ticket.state).where(Ticket.number == number)))


def test_a_double_clicked_call_rings_once_and_its_outcome_reaches_the_ticket_and_the_contact(
    stack: Stack, pbx: Pbx
) -> None:
    phone = phone_number()
    number = ticket_for(stack, phone)
    agent = stack.login("agent1")
    request_id = str(uuid.uuid4())
    press(agent, number, "call_customer", request_id)
    press(agent, number, "call_customer", request_id)  # the same form again: one Update

    record = pbx.call(ticket_number=number)
    assert (record.agent, record.extension, record.number) == ("agent1", "101", phone)
    record = pbx.status_becomes(record.id, "ringing")
    [originate] = [o for o in pbx.standin.originated if o["ChannelId"] == record.call_key]
    assert originate["Channel"] == "PJSIP/101" and originate["Exten"] == phone
    state = agent.get(f"/phone/tickets/{number}/calls.json").get_json()
    assert state["live"] and state["calls"][0]["status_text"] == "Ringing"

    pbx.standin.answer(str(record.call_key))
    pbx.status_becomes(record.id, "answered")
    pbx.standin.hangup(str(record.call_key))
    pbx.status_becomes(record.id, "ended")
    state = agent.get(f"/phone/tickets/{number}/calls.json").get_json()
    assert state["needs_outcome"] and not state["live"]

    press(agent, number, "call_no_agreement", notes="She wants a refund, not a repair.")
    eventually(lambda: pbx.call(id=record.id).outcome == "no_agreement")
    assert pbx.call(id=record.id).notes == "She wants a refund, not a repair."
    assert not agent.get(f"/phone/tickets/{number}/calls.json").get_json()["needs_outcome"]
    contact_id = pbx.call(id=record.id).contact_id
    page = agent.get(f"/desk/contacts/{contact_id}").get_data(as_text=True)
    assert "No agreement" in page and "She wants a refund" in page
    assert [o["ChannelId"] for o in pbx.standin.originated].count(record.call_key) == 1


def test_not_reached_moves_the_ticket_to_call_back(stack: Stack, pbx: Pbx) -> None:
    number = ticket_for(stack, phone_number())
    agent = stack.login("agent1")
    press(agent, number, "call_customer")
    record = pbx.call(ticket_number=number)
    pbx.status_becomes(record.id, "ringing")
    pbx.standin.hangup(str(record.call_key))
    pbx.status_becomes(record.id, "not_connected")
    press(agent, number, "call_not_reached")
    eventually(lambda: ticket_state(stack, number) == "call_back")
    eventually(lambda: pbx.call(id=record.id).outcome == "not_reached")


def test_a_retried_start_never_dials_again(stack: Stack, pbx: Pbx) -> None:
    with transaction(stack.sessions) as session:
        contact = Contact(name="Retry Rita", phone=phone_number())
        session.add(contact)
        session.flush()
        contact_id = contact.id
    key = f"td.test.{uuid.uuid4().hex[:8]}"
    request = StartCallInput(key, "agent1", contact_id=contact_id)
    first = calls.start_call(stack.sessions, stack.settings, request)
    again = calls.start_call(stack.sessions, stack.settings, request)  # an activity retry
    assert (first.status, again.status) == ("started", "already")
    # A try that died after telling the PBX, before hearing back: not dialled again.
    ambiguous = f"td.test.{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        session.add(CommRecord(call_key=ambiguous, status="originating", agent="agent1"))
    unknown = calls.start_call(stack.sessions, stack.settings, StartCallInput(ambiguous, "agent1"))
    assert unknown.status == "unknown"
    dialled = [o["ChannelId"] for o in pbx.standin.originated]
    assert dialled.count(key) == 1 and ambiguous not in dialled


def test_a_call_to_an_agents_extension_pops_up_for_that_agent_only(stack: Stack, pbx: Pbx) -> None:
    phone = phone_number()
    number = ticket_for(stack, phone, subject="Broken kettle, calling in")
    uniqueid = pbx.standin.ring("102", phone)
    record = pbx.call(call_key=uniqueid)
    assert (record.direction, record.agent, record.status) == ("in", "agent2", "ringing")
    agent2, agent1 = stack.login("agent2"), stack.login("agent1")
    pop = agent2.get("/phone/pop.json").get_json()
    assert pop["count"] == 1 and number in pop["html"] and "Attach the call" in pop["html"]
    assert agent1.get("/phone/pop.json").get_json()["count"] == 0
    assert 'id="phone-pop"' in agent2.get("/desk/").get_data(as_text=True)

    token = csrf_token(agent2.get(f"/desk/tickets/{number}").get_data(as_text=True))
    response = agent2.post(
        f"/phone/calls/{record.id}/attach", data={"csrf_token": token, "ticket": number}
    )
    assert response.status_code == 302

    def on_the_ticket() -> bool:
        with stack.sessions() as session:
            found = session.scalars(
                select(Message).where(Message.ticket_number == number, Message.channel == "phone")
            ).all()
            return len(found) == 1 and found[0].attached
        return False

    eventually(on_the_ticket)
    pbx.standin.hangup(uniqueid)
    pbx.status_becomes(record.id, "missed")


def test_a_missed_call_is_listed_and_becomes_a_phone_ticket(stack: Stack, pbx: Pbx) -> None:
    phone = phone_number()
    uniqueid = pbx.standin.ring("101", phone)
    record = pbx.call(call_key=uniqueid)
    pbx.standin.hangup(uniqueid)
    pbx.status_becomes(record.id, "missed")
    agent = stack.login("agent2")  # anyone may call back a missed call
    page = agent.get("/phone/missed").get_data(as_text=True)
    assert phone in page
    response = agent.post(f"/phone/calls/{record.id}/ticket", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    created = pbx.call(id=record.id).converted_ticket
    assert created and response.headers["Location"].endswith(f"/desk/tickets/{created}")
    with stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == created))
        assert ticket is not None and ticket.channel == "phone"


def test_cti_events_need_the_signature_and_a_replay_changes_nothing(stack: Stack) -> None:
    settings = stack.settings
    before = settings.cti_provider, settings.cti_secret
    settings.cti_provider, settings.cti_secret = "cloudpbx", "hook-secret"
    try:
        phone = phone_number()
        with transaction(stack.sessions) as session:
            caller = Contact(name="Cloud Caller", phone=phone)
            session.add(caller)
            session.flush()
            caller_id = caller.id
        with transaction(stack.sessions) as session:
            user = session.scalar(select(User).where(User.username == "agent1"))
            assert user is not None
            user.extension = "201"
        call_id = f"cloud-{uuid.uuid4().hex[:8]}"
        body = json.dumps(
            {"call_id": call_id, "event": "ringing", "from": phone[4:], "to": "201"}
        ).encode()
        client = stack.client()
        bad = client.post(
            "/hooks/cti/cloudpbx", data=body, headers={cti.SIGNATURE_HEADER: "sha256=00"}
        )
        assert bad.status_code == 401
        signed = {cti.SIGNATURE_HEADER: cti.sign("hook-secret", body)}
        assert client.post("/hooks/cti/other", data=body, headers=signed).status_code == 404
        for _ in range(2):
            assert client.post("/hooks/cti/cloudpbx", data=body, headers=signed).status_code == 204
        with stack.sessions() as session:
            found = session.scalars(select(CommRecord).where(CommRecord.call_key == call_id)).all()
            assert len(found) == 1
            assert (found[0].number, found[0].agent, found[0].provider) == (
                phone,  # written without +420: read in the default region
                "agent1",
                "cti",
            )
            assert found[0].contact_id == caller_id
        hungup = json.dumps({"call_id": call_id, "event": "hungup"}).encode()
        client.post(
            "/hooks/cti/cloudpbx",
            data=hungup,
            headers={cti.SIGNATURE_HEADER: cti.sign("hook-secret", hungup)},
        )
        with stack.sessions() as session:
            record = session.scalar(select(CommRecord).where(CommRecord.call_key == call_id))
            assert record is not None and record.status == "missed"
    finally:
        settings.cti_provider, settings.cti_secret = before
        with transaction(stack.sessions) as session:
            user = session.scalar(select(User).where(User.username == "agent1"))
            assert user is not None
            user.extension = None


def test_a_letter_logged_on_a_contact_becomes_a_ticket(stack: Stack) -> None:
    with transaction(stack.sessions) as session:
        contact = Contact(name="Letter Lenka", email=f"lenka-{uuid.uuid4().hex[:6]}@example.org")
        session.add(contact)
        session.flush()
        contact_id = contact.id
    agent = stack.login("agent1")
    page = agent.get(f"/desk/contacts/{contact_id}").get_data(as_text=True)
    assert "Calls, letters and appointments" in page
    response = agent.post(
        f"/phone/contacts/{contact_id}/records",
        data={
            "csrf_token": csrf_token(page),
            "kind": "letter",
            "direction": "in",
            "subject": "Complaint by post <script>alert(1)</script>",
            "notes": "The parcel came damaged.",
        },
    )
    assert response.status_code == 302
    page = agent.get(f"/desk/contacts/{contact_id}").get_data(as_text=True)
    assert "Complaint by post &lt;script&gt;" in page and "<script>alert(1)" not in page
    with stack.sessions() as session:
        record = session.scalar(select(CommRecord).where(CommRecord.contact_id == contact_id))
        assert record is not None and record.kind == "letter"
    response = agent.post(f"/phone/calls/{record.id}/ticket", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    with stack.sessions() as session:
        stored = session.get(CommRecord, record.id)
        assert stored is not None and stored.converted_ticket
        ticket = session.scalar(select(Ticket).where(Ticket.number == stored.converted_ticket))
        assert ticket is not None and ticket.contact_id == contact_id


def test_an_extension_belongs_to_one_agent(stack: Stack) -> None:
    admin = stack.login("admin")

    def form_of(username: str, extension: str) -> dict[str, object]:
        """The user's form as it is, but for the extension."""
        page = admin.get(f"/admin/users/{username}").get_data(as_text=True)
        assert 'name="extension"' in page
        with stack.sessions() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            return {
                "csrf_token": csrf_token(page),
                "display_name": user.display_name,
                "email": user.email,
                "language": user.language,
                "is_active": "on",
                **({"is_admin": "on"} if user.is_admin else {}),
                "groups": [g.name for g in user.groups],
                "extension": extension,
            }

    assert admin.post("/admin/users/agent2", data=form_of("agent2", "777")).status_code == 302
    taken = admin.post("/admin/users/agent1", data=form_of("agent1", "777"))
    assert taken.status_code == 422 and "another agent" in taken.get_data(as_text=True)
    assert admin.post("/admin/users/agent2", data=form_of("agent2", "")).status_code == 302
    with stack.sessions() as session:
        agent2 = session.scalar(select(User).where(User.username == "agent2"))
        assert agent2 is not None and agent2.extension is None and agent2.is_active
        assert [g.name for g in agent2.groups] == ["Billing"]


def test_a_double_clicked_call_button_on_a_contact_rings_once(stack: Stack, pbx: Pbx) -> None:
    with transaction(stack.sessions) as session:
        contact = Contact(name="Button Bára", phone=phone_number())
        session.add(contact)
        session.flush()
        contact_id, phone = contact.id, contact.phone
    agent = stack.login("agent1")
    page = agent.get(f"/desk/contacts/{contact_id}").get_data(as_text=True)
    assert f"Call {phone}" in page
    form = {"csrf_token": csrf_token(page), "call_id": str(uuid.uuid4())}
    for _ in range(2):
        response = agent.post(f"/phone/contacts/{contact_id}/call", data=form)
        assert response.status_code == 302
    record = pbx.call(contact_id=contact_id)
    assert (record.direction, record.number, record.extension) == ("out", phone, "101")
    keys = [o["ChannelId"] for o in pbx.standin.originated]
    assert keys.count(record.call_key) == 1
    assert not [k for k in keys if k.startswith(f"td.c{contact_id}.") and k != record.call_key]


def test_the_phone_lab_rings_an_agent_for_admins_only(stack: Stack, pbx: Pbx) -> None:
    assert stack.login("agent1").get("/phone/lab").status_code == 404
    admin = stack.login("admin")
    page = admin.get("/phone/lab").get_data(as_text=True)
    assert "101 · " in page
    caller = phone_number()
    response = admin.post(
        "/phone/lab", data={"csrf_token": csrf_token(page), "extension": "101", "caller": caller}
    )
    assert response.status_code == 302
    record = pbx.call(number=caller)
    assert (record.agent, record.status) == ("agent1", "ringing")
    page = admin.get("/phone/lab").get_data(as_text=True)
    response = admin.post(
        f"/phone/lab/calls/{record.id}/hangup", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    pbx.status_becomes(record.id, "missed")


def test_a_cloud_pbx_places_the_call_once_and_its_events_move_it(stack: Stack) -> None:
    """The CTI provider end to end: click-to-call POSTs to the stand-in cloud PBX, whose
    signed events come back through the webhook."""
    from tempodesk.telephony.cti_standin import CtiStandIn

    settings = stack.settings
    names = ("pbx", "cti_provider", "cti_secret", "cti_call_url", "cti_token")
    before = {name: getattr(settings, name) for name in names}
    before["allow_private_phone_hosts"] = settings.allow_private_phone_hosts
    hooks = stack.client()

    def deliver(body: bytes, headers: dict[str, str]) -> int:
        return hooks.post("/hooks/cti/cloudpbx", data=body, headers=headers).status_code

    cloud = CtiStandIn(secret="cloud-secret", token="cloud-token", deliver=deliver).start()
    settings.pbx, settings.cti_provider, settings.cti_secret = "cti", "cloudpbx", "cloud-secret"
    settings.cti_call_url, settings.cti_token = cloud.call_url, "cloud-token"
    settings.allow_private_phone_hosts = True
    with transaction(stack.sessions) as session:
        user = session.scalar(select(User).where(User.username == "agent1"))
        assert user is not None
        user.extension = "301"
    try:
        phone = phone_number()
        number = ticket_for(stack, phone)
        agent = stack.login("agent1")
        press(agent, number, "call_customer")

        def asked() -> bool:
            return any(k.startswith(f"td.{number}.") for k in cloud.calls)

        eventually(asked)
        [(key, call)] = [(k, c) for k, c in cloud.calls.items() if k.startswith(f"td.{number}.")]
        assert call == {"extension": "301", "to": phone}
        again = calls.start_call(stack.sessions, settings, StartCallInput(key, "agent1"))
        assert again.status == "already" and len(cloud.calls) == 1
        for kind in ("ringing", "answered", "hungup"):
            assert cloud.event(key, kind) == 204
        with stack.sessions() as session:
            record = session.scalar(select(CommRecord).where(CommRecord.call_key == key))
            assert record is not None and (record.status, record.provider) == ("ended", "cti")
        incoming = cloud.ring("301", phone)
        pop = agent.get("/phone/pop.json").get_json()
        assert pop["count"] == 1 and number in pop["html"]
        cloud.event(incoming, "hungup")
        assert agent.get("/phone/pop.json").get_json()["count"] == 0
    finally:
        cloud.stop()
        for name, value in before.items():
            setattr(settings, name, value)
        with transaction(stack.sessions) as session:
            user = session.scalar(select(User).where(User.username == "agent1"))
            assert user is not None
            user.extension = None
