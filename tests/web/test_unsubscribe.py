"""Consent: a non-essential mail to a customer carries List-Unsubscribe (RFC 2369) and
List-Unsubscribe-Post (RFC 8058); the mail client's one-click POST refuses non-essential mail
from then on; essential mail carries no such link; a made-up token changes nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Contact
from tests.activities.test_send_template import a_template, a_ticket, send
from tests.helpers import Stack


def a_consenting_customer(stack: Stack) -> tuple[str, str]:
    email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
    with transaction(stack.sessions) as session:
        contact = Contact(email=email, name="Reader")
        session.add(contact)
        session.flush()
        contact_id = contact.id
    return email, a_ticket(stack, customer_email=email, contact_id=contact_id)


def consents(stack: Stack, email: str) -> bool:
    with stack.sessions() as session:
        found = session.scalar(select(Contact.non_essential_mail).where(Contact.email == email))
        assert found is not None
        return found


def test_one_click_unsubscribe_from_a_non_essential_mail(stack: Stack, sink: Any) -> None:
    email, number = a_consenting_customer(stack)
    [delivery] = send(stack, number, a_template(stack, essential=False), "customer").deliveries
    assert delivery.status == "sent"
    [mail] = sink.wait_for(1)
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = re.fullmatch(
        r"<http://desk\.test(/support/unsubscribe/[^>]+)>", mail.message["List-Unsubscribe"]
    )
    assert found, mail.message["List-Unsubscribe"]
    path = found.group(1)
    client = stack.client()
    assert client.get(path).status_code == 200 and consents(stack, email)  # a GET changes nothing
    # What a mail client sends (RFC 8058): no cookie, no CSRF token.
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert not consents(stack, email)
    assert send(stack, number, a_template(stack, essential=False), "customer").deliveries == []


def test_essential_mail_has_no_unsubscribe_link(stack: Stack, sink: Any) -> None:
    _email, number = a_consenting_customer(stack)
    send(stack, number, a_template(stack, essential=True), "customer")
    [mail] = sink.wait_for(1)
    assert mail.message["List-Unsubscribe"] is None


def test_a_made_up_token_unsubscribes_nobody(stack: Stack) -> None:
    answer = stack.client().post("/support/unsubscribe/not-a-real-token")
    assert answer.status_code == 404
