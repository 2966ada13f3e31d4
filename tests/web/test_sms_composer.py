"""The composer offers SMS when the customer has a mobile number: the reply goes through the
same outbox to the telephony queue, once, and the timeline says so."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tempodesk.core.models import Ticket, TicketEvent
from tests.helpers import Stack
from tests.sms_helpers import a_mobile, eventually, sms_messages, stand_in
from tests.web.test_desk import press


def a_customer_ticket(stack: Stack, phone: str) -> str:
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Where is my parcel?",
            "body": "It did not come.",
            "customer": {"email": f"c-{uuid.uuid4().hex[:8]}@example.com", "phone": phone},
        },
        headers=stack.api(),
    )
    assert created.status_code == 201
    number: str = created.get_json()["number"]

    def linked() -> bool:
        with stack.sessions() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            return ticket is not None and ticket.contact_id is not None

    eventually(linked)
    return number


def test_an_agents_reply_goes_as_an_sms_to_the_customers_mobile_once(stack: Stack) -> None:
    phone = a_mobile()
    with stand_in(stack, "generic") as gateway:
        number = a_customer_ticket(stack, phone)
        agent = stack.login("agent1")
        page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
        assert f"SMS to {phone}" in page
        answer = press(
            agent, number, "reply", body="Ahoj Jano,\r\nbalík je na cestě.", reply_via="sms"
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        [message] = eventually(
            lambda: [m for m in sms_messages(stack, number) if m.delivery_status == "delivered"]
        )
        [caught] = gateway.caught
        assert (caught.to, caught.body) == (phone, "Ahoj Jano,\nbalík je na cestě.")
        assert message.sender_role == "agent" and message.recipient == phone

        def sent() -> list[TicketEvent]:
            with stack.sessions() as session:
                return list(
                    session.scalars(
                        select(TicketEvent)
                        .where(TicketEvent.ticket_number == number)
                        .where(TicketEvent.kind == "sms_sent")
                    )
                )

        [event] = eventually(sent)
        assert event.data["to"] == phone
        timeline = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
        assert f"SMS sent to {phone}" in timeline


def test_no_sms_is_offered_or_taken_for_a_customer_without_a_mobile(stack: Stack) -> None:
    with stand_in(stack, "twilio") as gateway:
        number = a_customer_ticket(stack, "+420 222 333 444")  # a landline
        agent = stack.login("agent1")
        assert "reply_via" not in agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
        answer = press(agent, number, "reply", body="Hello", reply_via="sms")
        assert answer.status_code == 422
        assert gateway.caught == []


def test_an_sms_reply_longer_than_an_sms_may_be_is_refused(stack: Stack) -> None:
    with stand_in(stack, "twilio") as gateway:
        number = a_customer_ticket(stack, a_mobile())
        answer = press(stack.login("agent1"), number, "reply", body="x" * 481, reply_via="sms")
        assert answer.status_code == 422
        assert "An SMS may be at most 480 characters." in answer.get_data(as_text=True)
        assert gateway.caught == []
