"""SMS in at /hooks/sms/<provider> and delivery reports at /hooks/sms/<provider>/status:
signed or authorised, deduplicated, matched to the customer and their open ticket."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from tempodesk.core.db import transaction
from tempodesk.core.ids import sms_inbound_key
from tempodesk.core.models import Message, Ticket
from tempodesk.telephony.sms_providers import twilio_signature
from tempodesk.telephony.sms_standin import CaughtSms, SmsStandIn
from tests.activities.test_send_template import a_ticket
from tests.helpers import Stack
from tests.sms_helpers import a_mobile, eventually, stand_in

HOOK = "http://desk.test/hooks/sms/{}"


def ticket_of(stack: Stack, number: str) -> Ticket | None:
    with stack.sessions() as session:
        return session.scalar(select(Ticket).where(Ticket.number == number))


def messages_with(stack: Stack, key: str) -> int:
    with stack.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(Message).where(Message.idempotency_key == key)
        )
        return int(count or 0)


def test_an_sms_from_a_new_number_opens_an_sms_ticket_once(stack: Stack) -> None:
    with stand_in(stack, "twilio") as gateway:
        sender, sid = a_mobile(), f"SM{uuid.uuid4().hex}"
        assert (
            gateway.send_inbound(HOOK.format("twilio"), sender, "+420777000111", "Hi\r\nhelp", sid)
            == 200
        )
        assert (
            gateway.send_inbound(HOOK.format("twilio"), sender, "+420777000111", "Hi\r\nhelp", sid)
            == 200
        )
        key = sms_inbound_key("twilio", sid)
        assert messages_with(stack, key) == 1
        with stack.sessions() as session:
            message = session.scalar(select(Message).where(Message.idempotency_key == key))
            assert message is not None and message.body == "Hi\nhelp"
            number = message.ticket_number
        ticket = eventually(lambda: ticket_of(stack, number))
        assert ticket.channel == "sms"


def test_an_sms_from_a_customer_with_an_open_ticket_lands_on_it_as_their_message(
    stack: Stack,
) -> None:
    sender = a_mobile()
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Kettle",
            "body": "It leaks.",
            "customer": {"email": f"sms-{uuid.uuid4().hex[:8]}@example.com", "phone": sender},
        },
        headers=stack.api(),
    )
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]
    eventually(lambda: (t := ticket_of(stack, number)) is not None and t.contact_id)
    with stand_in(stack, "generic") as gateway:
        for _ in range(2):  # the provider delivers it twice: one message
            answer = stack.client().post(
                "/hooks/sms/generic",
                json={
                    "from": sender,
                    "to": "+420777000111",
                    "text": "Still leaks",
                    "message_id": "g-1" + number,
                },
                headers={"Authorization": f"Bearer {gateway.callback_token}"},
            )
            assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json() == {"outcome": "duplicate", "ticket": number}
    key = sms_inbound_key("generic", "g-1" + number)
    assert messages_with(stack, key) == 1

    def attached() -> bool:
        with stack.sessions() as session:
            message = session.scalar(select(Message).where(Message.idempotency_key == key))
            return bool(message and message.attached and message.sender_role == "customer")

    eventually(attached)


def test_unsigned_or_wrongly_signed_or_wrongly_scoped_calls_are_refused(stack: Stack) -> None:
    with stand_in(stack, "twilio") as gateway:
        params = {"MessageSid": "SMx", "From": a_mobile(), "To": "+420777000111", "Body": "x"}
        bad = twilio_signature(HOOK.format("twilio"), params, "not-the-token")
        for headers in ({}, {"X-Twilio-Signature": bad}):
            answer = stack.client().post("/hooks/sms/twilio", data=params, headers=headers)
            assert answer.status_code == 401
        assert gateway.caught == []
    with stand_in(stack, "generic"):
        body = {"from": a_mobile(), "to": "+1", "text": "x", "message_id": "m"}
        api_only = stack.client().post("/hooks/sms/generic", json=body, headers=stack.api())
        assert api_only.status_code == 401
        assert stack.client().post("/hooks/sms/nonsense", json=body).status_code == 401


def test_a_replayed_or_late_delivery_report_changes_nothing(stack: Stack) -> None:
    number = a_ticket(stack)
    provider_id = f"SM{uuid.uuid4().hex}"
    with transaction(stack.sessions) as session:
        message = Message(
            ticket_number=number,
            channel="sms",
            body="x",
            delivery_status="sent",
            provider_message_id=provider_id,
        )
        session.add(message)
        session.flush()
        message_id = message.id
    with stand_in(stack, "twilio") as gateway:
        url = "http://desk.test/hooks/sms/twilio/status"

        def report(status: str) -> bool:
            params = {"MessageSid": provider_id, "MessageStatus": status}
            headers = {"X-Twilio-Signature": twilio_signature(url, params, gateway.token)}
            answer = stack.client().post("/hooks/sms/twilio/status", data=params, headers=headers)
            assert answer.status_code == 200
            return bool(answer.get_json()["changed"])

        assert report("delivered") is True
        assert report("delivered") is False  # replayed
        assert report("sent") is False  # late: never backwards
        assert report("failed") is False
    with stack.sessions() as session:
        assert session.get(Message, message_id).delivery_status == "delivered"  # type: ignore[union-attr]


def test_a_report_that_comes_before_the_answer_finds_its_sms_by_the_signed_reference(
    stack: Stack,
) -> None:
    """The gateway's answer was lost (the SMS is unknown): its report names it by the
    reference in the callback URL, proving it went, so it is not sent again."""
    number = a_ticket(stack)
    with transaction(stack.sessions) as session:
        message = Message(
            ticket_number=number,
            channel="sms",
            body="x",
            delivery_status="unknown",
            recipient="+420777123456",
            send_attempts=1,
        )
        session.add(message)
        session.flush()
        message_id = message.id
    reference = f"sms-{number}-3-{message_id}-420777123456"
    path = f"/hooks/sms/twilio/status?ref={reference}"
    with stand_in(stack, "twilio") as gateway:
        params = {"MessageSid": "SMlate", "MessageStatus": "delivered"}
        forged = stack.client().post(
            f"/hooks/sms/twilio/status?ref=sms-{number}-3-{message_id}-420000000000",
            data=params,
            headers={
                "X-Twilio-Signature": twilio_signature(
                    f"http://desk.test/hooks/sms/twilio/status?ref=sms-{number}-3-{message_id}-420000000000",
                    params,
                    gateway.token,
                )
            },
        )
        assert forged.get_json() == {"changed": False}  # a reference that is not this SMS's
        signature = twilio_signature("http://desk.test" + path, params, gateway.token)
        answer = stack.client().post(path, data=params, headers={"X-Twilio-Signature": signature})
        assert answer.get_json() == {"changed": True}
    with stack.sessions() as session:
        found = session.get(Message, message_id)
        assert found is not None
        assert (found.delivery_status, found.provider_message_id) == ("delivered", "SMlate")


def test_caught_sms_page_lists_what_the_stand_in_caught(stack: Stack, tmp_path: Any) -> None:
    directory = tmp_path / "sms-sink"
    gateway = SmsStandIn(0, directory)
    gateway.record(
        CaughtSms(
            gateway.next_name(),
            1.0,
            "twilio",
            "+420777123456",
            "+420777000111",
            "Vaše oprava je hotová <b>",
            "SM1",
            "ref",
            "",
            ["sent"],
        )
    )
    stack.settings.sms_sink_dir = directory
    try:
        html = stack.login("agent1").get("/desk/sms").get_data(as_text=True)
    finally:
        stack.settings.sms_sink_dir = None
    assert "Vaše oprava je hotová &lt;b&gt;" in html and "+420777123456" in html
    assert "UCS-2" in html
    assert stack.login("agent1").get("/desk/sms").status_code == 404
