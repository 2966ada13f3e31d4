"""Triggers that mail, end to end through the real SMTP sink (Flask, a real worker, Temporal,
PostgreSQL): a trigger's answer to a new request is an auto-reply (Auto-Submitted), at most
one per sender within the window and never to automatic mail; outgoing triggers add a blind
copy to an archive (in the envelope only) and a signature in the recipient's language to
replies and templates alike."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tempodesk.core.models import Contact
from tests.helpers import Stack
from tests.web.test_inbound_email import mail, mails_to, post, ticket
from tests.web.test_triggers import put

ARCHIVE = "archive@archive.example"
AUTO_REPLY = {
    "name": "Web requests are answered",
    "on": "created",
    "conditions": [{"field": "channel", "op": "is", "value": "api"}],
    "actions": [{"type": "send_template", "name": "customer", "value": "ticket_received"}],
}
LIST_REPLY = {
    "name": "Support mail is answered",
    "on": "created",
    "conditions": [{"field": "mailbox", "op": "is", "value": "support"}],
    "actions": [{"type": "send_template", "name": "customer", "value": "ticket_received"}],
}
BCC = {
    "name": "Everything to the archive",
    "on": "outgoing",
    "conditions": [],
    "actions": [{"type": "add_bcc", "value": ARCHIVE}],
}
CZECH = {
    "name": "Czech signature",
    "on": "outgoing",
    "conditions": [{"field": "language", "op": "is", "value": "cs"}],
    "actions": [{"type": "set_signature", "value": "S pozdravem, tým podpory"}],
}


@pytest.fixture
def triggers_after(stack: Stack) -> Iterator[None]:
    yield
    assert put(stack, []).status_code == 200  # the stack is shared


def customer(stack: Stack, language: str) -> str:
    address = f"trig-{uuid.uuid4().hex[:8]}@customer.example"
    with stack.sessions() as session:
        session.add(Contact(email=address, name="Eva", language=language))
        session.commit()
    return address


def new_ticket(stack: Stack, address: str) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={"subject": "The lid", "body": "It leaks.", "customer": {"email": address}},
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def events(stack: Stack, number: str, kind: str, count: int = 1) -> list[dict[str, Any]]:
    for _ in range(300):
        found = [e for e in ticket(stack, number)["events"] if e["kind"] == kind]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {kind} on {number}")


def test_an_auto_reply_goes_once_per_sender_with_the_archive_and_the_signature(
    stack: Stack, sink: Any, triggers_after: None
) -> None:
    assert put(stack, [AUTO_REPLY, BCC, CZECH]).status_code == 200
    czech = customer(stack, "cs")
    first = new_ticket(stack, czech)
    [answer] = mails_to(sink, czech, 1)
    assert answer.message["Auto-Submitted"] == "auto-replied"
    assert answer.recipients == [czech, ARCHIVE]  # a blind copy: in the envelope only
    assert "Bcc" not in answer.message and ARCHIVE not in str(answer.message)
    assert answer.text().replace("\r\n", "\n").rstrip().endswith("-- \nS pozdravem, tým podpory")
    assert first in answer.subject

    second = new_ticket(stack, czech)  # within the window: no second auto-reply
    [skipped] = events(stack, second, "template_skipped")
    assert "cap" in skipped["data"]["detail"]
    assert len(mails_to(sink, czech, 1)) == 1


def test_a_reply_carries_the_archive_copy_and_the_signature_of_its_language(
    stack: Stack, sink: Any, triggers_after: None
) -> None:
    assert put(stack, [BCC, CZECH]).status_code == 200
    english, czech = customer(stack, "en"), customer(stack, "cs")
    for address in (english, czech):
        number = new_ticket(stack, address)
        replied = stack.client().post(
            f"/api/v1/tickets/{number}/actions/reply",
            json={"fields": {"body": "Please send a photo."}},
            headers=stack.api(),
        )
        assert replied.status_code == 200, replied.get_json()
    [to_english] = mails_to(sink, english, 1)
    [to_czech] = mails_to(sink, czech, 1)
    assert to_english.recipients == [english, ARCHIVE]
    assert to_czech.recipients == [czech, ARCHIVE]
    assert "S pozdravem" in to_czech.text() and "S pozdravem" not in to_english.text()


def test_automatic_mail_gets_no_auto_reply(stack: Stack, sink: Any, triggers_after: None) -> None:
    assert put(stack, [LIST_REPLY]).status_code == 200
    sender = f"list-{uuid.uuid4().hex[:8]}@lists.example"
    routed = post(stack, mail(sender, headers={"List-Id": "<kettles.lists.example>"}))
    number = routed.get_json()["ticket"]
    [fired] = events(stack, number, "trigger_fired")
    assert fired["data"]["actions"] == []  # fired, but nothing is sent to a machine
    time.sleep(1.0)
    assert [m for m in sink.caught if sender in m.recipients] == []
