"""Splitting a customer's message off into a new ticket through the REST API, end to end
(Flask, intake, a real worker, Temporal, PostgreSQL): the new ticket has the message with
its file and the same customer, the message is on one ticket only, both timelines say so,
and a reply to that mail threads to the new ticket."""

from __future__ import annotations

import time
from email.utils import make_msgid
from typing import Any

from sqlalchemy import func, select

from tempodesk.core.models import Attachment, Message
from tests.helpers import Stack
from tests.web.test_inbound_email import mail, post, someone, ticket


def split(stack: Stack, number: str, message_id: Any, **extra: Any) -> Any:
    return stack.client().post(
        f"/api/v1/tickets/{number}/split",
        json={"message_id": message_id, **extra},
        headers=stack.api(),
    )


def customer_messages(stack: Stack, number: str) -> list[dict[str, Any]]:
    return [m for m in ticket(stack, number)["messages"] if m["sender_role"] == "customer"]


def ticket_with_a_follow_up(stack: Stack) -> tuple[str, str, str, int]:
    """A ticket opened by mail and a second, unrelated mail that joined it (its Message-ID)."""
    sender = someone()
    number = post(stack, mail(sender, body="The kettle is broken.\n")).get_json()["ticket"]
    second_id = make_msgid(domain="customer.example")
    follow_up = mail(
        sender,
        subject=f"Re: [{number}] My kettle is broken",
        body="Also, my toaster smokes.\n",
        message_id=second_id,
        attachment=("toaster.pdf", b"%PDF-1.4 toaster"),
    )
    assert post(stack, follow_up).get_json()["ticket"] == number
    for _ in range(200):
        found = [m for m in customer_messages(stack, number) if "toaster" in m["body"]]
        if found:
            return sender, number, second_id, found[0]["id"]
        time.sleep(0.05)
    raise AssertionError("the follow-up never reached the ticket")


def test_a_split_message_moves_to_a_new_ticket_with_its_file(stack: Stack) -> None:
    sender, number, _, message_id = ticket_with_a_follow_up(stack)

    response = split(stack, number, message_id)

    assert response.status_code == 201, response.get_json()
    new = response.get_json()["ticket"]
    assert new["number"] != number and new["customer_email"] == sender
    assert ticket(stack, number)["customer"]["id"] == new["customer"]["id"]
    assert [m["body"].strip() for m in customer_messages(stack, number)] == [
        "The kettle is broken."
    ]
    [moved] = customer_messages(stack, new["number"])
    assert moved["body"].strip() == "Also, my toaster smokes."
    with stack.sessions() as session:
        smoking = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.body.like("%toaster smokes%"))
            .where(Message.ticket_number.in_([number, new["number"]]))
        )
        files = list(
            session.scalars(
                select(Attachment.filename)
                .join(Message)
                .where(Message.ticket_number == new["number"])
            )
        )
    assert smoking == 1  # moved: not lost, not doubled
    assert files == ["toaster.pdf"]
    assert "split_off" in [e["kind"] for e in ticket(stack, number)["events"]]
    for _ in range(200):
        if "split_in" in [e["kind"] for e in ticket(stack, new["number"])["events"]]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the new ticket never recorded the split")


def test_a_reply_to_a_split_message_threads_to_the_new_ticket(stack: Stack) -> None:
    sender, number, second_id, message_id = ticket_with_a_follow_up(stack)
    new = split(stack, number, message_id).get_json()["ticket"]["number"]

    reply = mail(
        sender,
        subject="Re: the toaster",
        body="It smokes more now.\n",
        headers={"In-Reply-To": second_id, "References": second_id},
    )

    assert post(stack, reply).get_json()["ticket"] == new


def test_splitting_twice_opens_one_ticket(stack: Stack) -> None:
    _, number, _, message_id = ticket_with_a_follow_up(stack)

    first = split(stack, number, message_id, request_id="same-split-1")
    again = split(stack, number, message_id, request_id="same-split-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["ticket"]["number"] == first.get_json()["ticket"]["number"]


def test_the_first_message_and_an_agents_message_are_not_split(stack: Stack) -> None:
    _, number, _, _ = ticket_with_a_follow_up(stack)
    first = customer_messages(stack, number)[0]["id"]

    assert split(stack, number, first).status_code == 409
    assert split(stack, number, 0).status_code == 409
    assert split(stack, number, "x").status_code == 422
