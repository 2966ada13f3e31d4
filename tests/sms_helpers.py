"""The SMS stand-in wired to a test stack: the gateway row points at it, and its calls to
Tempodesk (delivery reports, inbound SMS) go through the stack's Flask app."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, Message, User
from tempodesk.messaging import templates
from tempodesk.people import accounts
from tempodesk.telephony import sms
from tempodesk.telephony.sms_standin import SmsStandIn
from tempodesk.tickets import processes
from tests.helpers import Stack

PROCESS = """
name: texting
label: Texting (SMS tests)
initial: new
states:
  new:
    label: New
    category: new
    actions: [text_customer, close]
  closed:
    label: Closed
    category: closed
actions:
  text_customer:
    label: Text the customer
    target: stay
    effects:
      - {type: send_template, template: sms_update, to: customer}
  close:
    label: Close
    target: closed
"""


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the condition did not become true in time")


def through_app(stack: Stack) -> Callable[[str, bytes, dict[str, str]], int]:
    """A poster for the stand-in: ``http://desk.test/...`` reaches the stack's app."""
    base = stack.settings.public_url

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        assert url.startswith(base), url
        client = stack.client()
        response = client.post(url[len(base) :], data=body, headers=headers, base_url=base)
        return int(response.status_code)

    return post


def sms_token(stack: Stack) -> str:
    with transaction(stack.sessions) as session:
        user = session.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        return accounts.create_token(session, user, "sms gateway", scopes=("sms",))


@contextmanager
def stand_in(stack: Stack, provider: str = "twilio") -> Iterator[SmsStandIn]:
    """A running stand-in that the stack's gateway row points at, as ``provider``."""
    gateway = SmsStandIn(callback_token=sms_token(stack))
    gateway.poster = through_app(stack)
    gateway.start()
    try:
        with transaction(stack.sessions) as session:
            sms.save_gateway(
                session,
                stack.settings,
                provider=provider,
                url=gateway.url if provider == "twilio" else gateway.generic_url,
                account=gateway.account,
                secret=gateway.token,
                sender="+420777000111",
            )
        yield gateway
    finally:
        gateway.stop()


def a_mobile() -> str:
    """A Czech mobile number no other test uses."""
    return "+42077" + str(uuid.uuid4().int)[:7]


def a_contact(stack: Stack, phone: str, email: str = "") -> int:
    with transaction(stack.sessions) as session:
        contact = Contact(email=email or None, phone=phone, name="Jana SMS")
        session.add(contact)
        session.flush()
        return contact.id


SMS_TEMPLATE = "Hi {{ customer.name }}, {{ ticket.number }}: your repair is ready.\r\nBye"


def texting_ticket(stack: Stack, phone: str, token: str = "") -> str:
    """A ticket of the ``texting`` process whose customer has the mobile ``phone``."""
    with transaction(stack.sessions) as session:
        templates.save(
            session,
            "sms_update",
            channel="sms",
            description="SMS tests",
            texts={"en": ("", SMS_TEMPLATE)},
            author="tests",
        )
        session.flush()
        processes.publish(session, PROCESS, author="tests")
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": f"Repair {token}".strip(),
            "body": f"Please text me. {token}",
            "process": "texting",
            "customer": {
                "email": f"sms-{uuid.uuid4().hex[:8]}@example.com",
                "phone": phone,
                "name": "Jana",
            },
        },
        headers=stack.api(),
    )
    assert created.status_code == 201, created.get_json()
    number: str = created.get_json()["number"]
    return number


def text_customer(stack: Stack, number: str) -> None:
    answer = stack.client().post(
        f"/api/v1/tickets/{number}/actions/text_customer", json={"fields": {}}, headers=stack.api()
    )
    assert answer.status_code == 200, answer.get_json()


def sms_messages(stack: Stack, number: str) -> list[Message]:
    with stack.sessions() as session:
        found = list(
            session.scalars(
                select(Message)
                .where(Message.ticket_number == number)
                .where(Message.channel == "sms")
                .order_by(Message.id)
            )
        )
        for message in found:
            session.expunge(message)
        return found
