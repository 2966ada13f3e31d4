"""An action's SMS template, end to end: the ticket's workflow, the telephony queue, the
stand-in gateway, its delivery reports, the timeline."""

from __future__ import annotations

from sqlalchemy import select

from tempodesk.core.models import TicketEvent
from tests.helpers import Stack
from tests.sms_helpers import (
    a_mobile,
    eventually,
    sms_messages,
    stand_in,
    text_customer,
    texting_ticket,
)


def test_an_actions_sms_template_reaches_the_customers_mobile_once(stack: Stack) -> None:
    phone = a_mobile()
    with stand_in(stack, "twilio") as gateway:
        number = texting_ticket(stack, phone)
        text_customer(stack, number)
        [message] = eventually(
            lambda: [m for m in sms_messages(stack, number) if m.delivery_status == "delivered"]
        )
        [caught] = gateway.caught
        assert caught.to == phone
        assert caught.body == f"Hi Jana, {number}: your repair is ready.\nBye"
        assert message.recipient == phone

        def sent_event() -> list[TicketEvent]:
            with stack.sessions() as session:
                return list(
                    session.scalars(
                        select(TicketEvent)
                        .where(TicketEvent.ticket_number == number)
                        .where(TicketEvent.kind == "template_sent")
                    )
                )

        [event] = eventually(sent_event)
        assert event.data["channel"] == "sms" and event.data["ambiguous"] is False
        assert event.data["to"] == phone
        # On the timeline once the workflow recorded it (the gateway's report may come first).
        assert [m.attached for m in sms_messages(stack, number) if m.id == message.id] == [True]


def test_a_customer_without_a_mobile_gets_no_sms_and_the_timeline_says_why(stack: Stack) -> None:
    with stand_in(stack, "twilio") as gateway:
        number = texting_ticket(stack, "+420222333444")  # a landline
        text_customer(stack, number)

        def skipped() -> list[TicketEvent]:
            with stack.sessions() as session:
                return list(
                    session.scalars(
                        select(TicketEvent)
                        .where(TicketEvent.ticket_number == number)
                        .where(TicketEvent.kind == "template_skipped")
                    )
                )

        [event] = eventually(skipped)
        assert "nobody to send to" in event.data["detail"]
        assert gateway.caught == []
