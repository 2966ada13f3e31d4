"""Outbound SMS through both provider shapes of the stand-in gateway: sent once, whatever
the gateway or the worker does (retries, 429/500, an answer lost after accepting)."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from activities.sms import SmsActivities
from tempodesk.contracts import SendSmsInput
from tempodesk.core.db import transaction
from tempodesk.core.models import Message
from tempodesk.telephony import sms as sms_room
from tests.activities.test_send_template import a_ticket
from tests.helpers import Stack
from tests.sms_helpers import eventually, stand_in

TO = "+420777123456"


def an_sms(stack: Stack, body: str = "Your kettle is ready.\r\nCome by.") -> SendSmsInput:
    number = a_ticket(stack)
    with transaction(stack.sessions) as session:
        message = Message(
            ticket_number=number, channel="sms", sender_role="system", body=body, recipient=TO
        )
        session.add(message)
        session.flush()
        return SendSmsInput(number, 4, message.id, TO)


def stored(stack: Stack, message_id: int) -> Message:
    with stack.sessions() as session:
        message = session.get(Message, message_id)
        assert message is not None
        session.expunge(message)
        return message


@pytest.mark.parametrize("provider", ["twilio", "generic"])
def test_an_sms_goes_once_and_its_delivery_reports_arrive(stack: Stack, provider: str) -> None:
    activities = SmsActivities(stack.sessions, stack.settings)
    with stand_in(stack, provider) as gateway:
        sms = an_sms(stack)
        first = activities.send_sms(sms)
        again = activities.send_sms(sms)  # a retried activity
        assert first.status == "sent" and first.provider_message_id
        assert again.detail == "already sent"
        [caught] = gateway.caught
        assert (caught.to, caught.body, caught.sender) == (
            TO,
            "Your kettle is ready.\nCome by.",
            "+420777000111",
        )
        assert caught.reference.startswith(f"sms-{sms.ticket_number}-4-")
        eventually(lambda: stored(stack, sms.message_id).delivery_status == "delivered")
        assert [s for s, answer in gateway.callback_log if answer == 200] == ["sent", "delivered"]


@pytest.mark.parametrize("failure", [500, 429])
def test_a_gateway_that_does_not_take_it_is_retried_and_it_goes_once(
    stack: Stack, failure: int
) -> None:
    activities = SmsActivities(stack.sessions, stack.settings)
    with stand_in(stack, "twilio") as gateway:
        gateway.fail = failure
        sms = an_sms(stack)
        with pytest.raises(ApplicationError):
            activities.send_sms(sms)
        message = stored(stack, sms.message_id)
        assert (message.delivery_status, message.send_attempts) == ("queued", 0)
        gateway.fail = None
        assert activities.send_sms(sms).status == "sent"
        assert len(gateway.caught) == 1
        assert not stored(stack, sms.message_id).delivery_ambiguous


def test_a_refusal_is_a_recorded_failure_not_a_retry(stack: Stack) -> None:
    activities = SmsActivities(stack.sessions, stack.settings)
    with stand_in(stack, "twilio") as gateway:
        sms = an_sms(stack)
        with transaction(stack.sessions) as session:
            session.get(Message, sms.message_id).body = ""  # type: ignore[union-attr]
        result = activities.send_sms(sms)
        assert result.status == "failed" and "HTTP 400" in result.detail
        assert activities.send_sms(sms).status == "failed"
        assert gateway.caught == []


def test_an_answer_lost_after_accepting_is_unknown_then_resent_once_with_its_key(
    stack: Stack,
) -> None:
    """The generic gateway honours the Idempotency-Key: the one resend sends nothing."""
    activities = SmsActivities(stack.sessions, stack.settings)
    with stand_in(stack, "generic") as gateway:
        gateway.fail, gateway.hang_seconds = "timeout", stack.settings.sms_timeout_seconds + 1
        gateway.callbacks = False  # a delivery report would prove it went (no resend then)
        sms = an_sms(stack)
        with pytest.raises(ApplicationError, match="may have been sent"):
            activities.send_sms(sms)
        message = stored(stack, sms.message_id)
        assert (message.delivery_status, message.delivery_ambiguous) == ("unknown", True)
        gateway.fail = None
        result = activities.send_sms(sms)
        assert (result.status, result.ambiguous) == ("sent", True)
        assert len(gateway.caught) == 1  # the key made the resend harmless
        assert stored(stack, sms.message_id).send_attempts == 2


def test_with_twilios_shape_an_unknown_send_goes_at_most_twice_and_is_flagged(
    stack: Stack,
) -> None:
    activities = SmsActivities(stack.sessions, stack.settings)
    with stand_in(stack, "twilio") as gateway:
        gateway.fail, gateway.hang_seconds = "timeout", stack.settings.sms_timeout_seconds + 1
        gateway.callbacks = False  # a delivery report would prove it went (no resend then)
        sms = an_sms(stack)
        for _ in range(2):
            with pytest.raises(ApplicationError):
                activities.send_sms(sms)
        third = activities.send_sms(sms)  # never a third time
        assert (third.status, third.ambiguous) == ("unknown", True)
        assert len(gateway.caught) == 2
        assert stored(stack, sms.message_id).delivery_ambiguous


def test_without_a_gateway_the_sms_is_recorded_failed(stack: Stack) -> None:
    activities = SmsActivities(stack.sessions, stack.settings)
    with stand_in(stack, "twilio"):
        pass
    with transaction(stack.sessions) as session:
        row = sms_room.row(session)
        assert row is not None
        row.enabled = False
    sms = an_sms(stack)
    result = activities.send_sms(sms)
    assert (result.status, result.detail) == ("failed", "No SMS gateway is configured.")
