"""Templates sent by process effects, through a real SMTP server: to whom, once, and marked
as automatic mail."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mail import MailActivities
from tempodesk.contracts import PreparedTemplate, SendNoticeInput, SendTemplateInput
from tempodesk.core.db import transaction
from tempodesk.core.models import (
    AutoMailLog,
    Contact,
    Follow,
    Group,
    Message,
    MessageTemplate,
    TemplateText,
    Ticket,
    utcnow,
)
from tests.helpers import Stack


def a_ticket(stack: Stack, **values: Any) -> str:
    number = f"T-{uuid.uuid4().hex[:8]}"
    row: dict[str, Any] = {
        "number": number,
        "workflow_id": f"ticket-{number}",
        "subject": "Broken kettle",
        "state": "open",
        "state_label": "Open",
        "state_category": "open",
        "process_name": "support",
        "process_version": 1,
        "assignee": "agent2",
        "group_name": "Support",
        "customer_email": "jana.novakova@example.com",
        "customer_name": "Jana",
    }
    row.update(values)
    with transaction(stack.sessions) as session:
        session.add(Ticket(**row))
    return number


def send(stack: Stack, number: str, template: str, to_role: str, actor: str = "agent1") -> Any:
    return MailActivities(stack.sessions, stack.settings).send_template(
        SendTemplateInput(number, 3, template, to_role, effect_index=1, actor=actor)
    )


def test_assignee_gets_the_template_in_their_language_once(stack: Stack, sink: Any) -> None:
    number = a_ticket(stack)
    result = send(stack, number, "assigned_to_you", "assignee")
    [delivery] = result.deliveries
    assert delivery.recipient == "agent2@tempodesk.localhost" and delivery.status == "sent"
    [mail] = sink.wait_for(1)
    assert mail.subject == f"[{number}] Assigned to you: Broken kettle"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message_id == delivery.smtp_message_id
    again = send(stack, number, "assigned_to_you", "assignee")  # a retried activity
    assert again.deliveries[0].message_id == delivery.message_id
    assert len(sink.caught) == 1
    with stack.sessions() as session:
        stored = session.get(Message, delivery.message_id)
        assert stored is not None and stored.internal and stored.sender_role == "system"


def test_nobody_is_told_about_their_own_action(stack: Stack, sink: Any) -> None:
    number = a_ticket(stack)
    result = send(stack, number, "assigned_to_you", "assignee", actor="agent2")
    assert result.deliveries == [] and result.skipped == "nobody to send to as assignee"
    assert sink.caught == []


def test_group_supervisor_and_followers_are_resolved_from_the_database(
    stack: Stack, sink: Any
) -> None:
    number = a_ticket(stack, group_name="Billing")
    with transaction(stack.sessions) as session:
        billing = session.scalar(select(Group).where(Group.name == "Billing"))
        assert billing is not None
        billing.supervisor = "admin"
        session.add(Follow(ticket_number=number, username="agent1"))
        session.add(Follow(ticket_number=number, username="admin"))
    try:
        group = send(stack, number, "assigned_to_you", "group", actor="nobody")
        supervisor = send(stack, number, "assigned_to_you", "supervisor", actor="nobody")
        followers = send(stack, number, "assigned_to_you", "followers", actor="admin")
    finally:
        with transaction(stack.sessions) as session:
            billing = session.scalar(select(Group).where(Group.name == "Billing"))
            assert billing is not None
            billing.supervisor = None
    assert sorted(d.recipient for d in group.deliveries) == [
        "admin@tempodesk.localhost",
        "agent2@tempodesk.localhost",
    ]
    assert [d.recipient for d in supervisor.deliveries] == ["admin@tempodesk.localhost"]
    assert [d.recipient for d in followers.deliveries] == ["agent1@tempodesk.localhost"]


def test_customer_copy_is_public_and_automatic_addresses_get_nothing(
    stack: Stack, sink: Any
) -> None:
    number = a_ticket(stack)
    result = send(stack, number, "closed_no_answer", "customer")
    [delivery] = result.deliveries
    assert delivery.recipient == "jana.novakova@example.com"
    with stack.sessions() as session:
        stored = session.get(Message, delivery.message_id)
        assert stored is not None and stored.internal is False
    robot = a_ticket(stack, customer_email="no-reply@shop.example", contact_id=None)
    assert send(stack, robot, "closed_no_answer", "customer").deliveries == []


def test_a_rejected_recipient_is_a_failed_delivery_not_a_retry(stack: Stack, sink: Any) -> None:
    number = a_ticket(stack)
    sink.reject.add("agent2@tempodesk.localhost")
    [delivery] = send(stack, number, "assigned_to_you", "assignee").deliveries
    assert delivery.status == "failed" and "550" in delivery.detail


def test_two_tickets_of_one_customer_opened_together_send_one_acknowledgement(
    stack: Stack, sink: Any
) -> None:
    """The check and the send used to be two steps: while the first acknowledgement was on its
    way (a slow SMTP server), the second ticket's check found nothing logged yet."""
    customer = f"twice-{uuid.uuid4().hex[:6]}@example.com"
    first, second = (a_ticket(stack, customer_email=customer, contact_id=None) for _ in "12")
    sink.delay = 1.0
    activities = MailActivities(stack.sessions, stack.settings)

    def acknowledge(number: str) -> Any:
        return activities.send_template(
            SendTemplateInput(
                number, 1, "ticket_received", "customer", auto_submitted="auto-replied"
            )
        )

    with ThreadPoolExecutor(2) as pool:
        one = pool.submit(acknowledge, first)
        time.sleep(0.3)  # the first is talking to the SMTP server
        two = pool.submit(acknowledge, second)
        results = [one.result(), two.result()]
    sent = [d for r in results for d in r.deliveries if d.status == "sent"]
    assert len(sent) == 1
    assert [r.skipped for r in results].count("automatic mail cap reached for the customer") == 1
    time.sleep(sink.delay)
    assert [m.recipients for m in sink.caught] == [[customer]]
    # A retried activity of the ticket that holds the day sends nothing new.
    holder = first if results[0].deliveries else second
    assert acknowledge(holder).deliveries[0].message_id == sent[0].message_id
    assert len(sink.caught) == 1


def test_an_acknowledgement_that_failed_leaves_the_day_to_the_next_ticket(
    stack: Stack, sink: Any
) -> None:
    customer = f"bounced-{uuid.uuid4().hex[:6]}@example.com"
    first, second = (a_ticket(stack, customer_email=customer, contact_id=None) for _ in "12")
    activities = MailActivities(stack.sessions, stack.settings)
    ack = SendTemplateInput(first, 1, "ticket_received", "customer", auto_submitted="auto-replied")
    sink.reject.add(customer)
    assert activities.send_template(ack).deliveries[0].status == "failed"
    sink.reject.clear()
    ack.ticket_number = second
    assert activities.send_template(ack).deliveries[0].status == "sent"


def test_a_template_that_would_build_a_huge_mail_is_a_recorded_failure_not_a_retry(
    stack: Stack, sink: Any
) -> None:
    """A template saved before the size clamps existed (written straight to the table) must end
    the send at once with the admin's reason, not hold a mail thread or retry for days."""
    name = f"bomb_{uuid.uuid4().hex[:6]}"
    with transaction(stack.sessions) as session:
        template = MessageTemplate(name=name, channel="email")
        template.texts.append(
            TemplateText(language="en", subject="Hi", body="{{ 'x'.ljust(10**9) }}")
        )
        session.add(template)
    number = a_ticket(stack)
    started = time.monotonic()
    result = send(stack, number, name, "assignee")
    assert time.monotonic() - started < 3
    assert result.deliveries == []
    assert result.skipped == "the template failed: Not allowed: A width over 1000 is not allowed."
    assert sink.caught == []


def test_each_recipient_has_an_activity_of_its_own_that_heartbeats_and_never_resends(
    stack: Stack, sink: Any
) -> None:
    number = a_ticket(stack, group_name="Billing")  # members: admin, agent2
    mail = MailActivities(stack.sessions, stack.settings)
    request = SendTemplateInput(number, 3, "assigned_to_you", "group", 1, actor="nobody")
    env = ActivityEnvironment()
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    prepared: PreparedTemplate = env.run(mail.prepare_template, request)
    first, second = prepared.notices
    assert {first.recipient, second.recipient} == {
        "admin@tempodesk.localhost",
        "agent2@tempodesk.localhost",
    }
    assert len(beats) >= 2 and sink.caught == []  # rendered and stored, nothing sent yet
    assert env.run(mail.send_notice, SendNoticeInput(request, first)).status == "sent"
    sink.unavailable = True  # the server falters before the second: only it is retried
    with pytest.raises(ApplicationError) as caught:
        env.run(mail.send_notice, SendNoticeInput(request, second))
    assert not caught.value.non_retryable
    sink.unavailable = False
    assert env.run(mail.send_notice, SendNoticeInput(request, second)).status == "sent"
    again = env.run(mail.send_notice, SendNoticeInput(request, first))  # a retried activity
    assert again.status == "sent" and again.detail == "already sent"
    assert sorted(r for m in sink.caught for r in m.recipients) == [
        "admin@tempodesk.localhost",
        "agent2@tempodesk.localhost",
    ]
    assert len(beats) >= 6  # every send heartbeats too


def a_template(stack: Stack, *, essential: bool) -> str:
    name = f"news_{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        template = MessageTemplate(name=name, essential=essential)
        template.texts.append(TemplateText(language="en", subject="Hello", body="Our news"))
        session.add(template)
    return name


def opted_out_customer(stack: Stack) -> str:
    email = f"quiet-{uuid.uuid4().hex[:8]}@example.com"
    with transaction(stack.sessions) as session:
        contact = Contact(email=email, name="Quiet", non_essential_mail=False)
        session.add(contact)
        session.flush()
        contact_id = contact.id
    return a_ticket(stack, customer_email=email, contact_id=contact_id)


def test_a_customer_who_refused_non_essential_mail_gets_no_non_essential_template(
    stack: Stack, sink: Any
) -> None:
    number = opted_out_customer(stack)
    result = send(stack, number, a_template(stack, essential=False), "customer")
    assert result.deliveries == []
    assert result.skipped == "the customer refused non-essential mail"
    prepared = MailActivities(stack.sessions, stack.settings).prepare_template(
        SendTemplateInput(number, 4, a_template(stack, essential=False), "customer", 1, "agent1")
    )
    assert prepared.notices == [] and "refused non-essential" in prepared.skipped
    assert sink.caught == []


def test_essential_mail_still_reaches_a_customer_who_refused_the_rest(
    stack: Stack, sink: Any
) -> None:
    number = opted_out_customer(stack)
    [delivery] = send(stack, number, a_template(stack, essential=True), "customer").deliveries
    assert delivery.status == "sent"
    assert len(sink.wait_for(1)) == 1
    # A customer who did not refuse anything gets the non-essential one too.
    other = a_ticket(stack, customer_email=f"open-{uuid.uuid4().hex[:8]}@example.com")
    assert send(stack, other, a_template(stack, essential=False), "customer").deliveries


@pytest.mark.parametrize(
    ("minutes_ago", "logged", "capped"),
    [(1, 9, False), (1, 10, True), (30, 24, False), (30, 25, True)],
)
def test_automatic_mail_to_a_customer_stops_at_either_windows_cap(
    stack: Stack, sink: Any, minutes_ago: int, logged: int, capped: bool
) -> None:
    """10 automatic mails in 10 minutes, or 25 in an hour, to one customer of one ticket."""
    customer = f"capped-{uuid.uuid4().hex[:6]}@example.com"
    number = a_ticket(stack, customer_email=customer, contact_id=None)
    sent_at = utcnow() - timedelta(minutes=minutes_ago)
    with transaction(stack.sessions) as session:
        session.add_all(
            AutoMailLog(
                recipient=customer, ticket_number=number, kind="auto-generated", sent_at=sent_at
            )
            for _ in range(logged)
        )
    result = send(stack, number, "closed_no_answer", "customer")
    assert (result.skipped == "automatic mail cap reached for the customer") is capped
    assert bool(result.deliveries) is not capped
