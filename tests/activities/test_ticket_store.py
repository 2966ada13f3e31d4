"""The database activities, on PostgreSQL and on SQLite."""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy import func, select

from activities.tickets import TicketStore
from tempodesk.contracts import (
    AssignmentInput,
    CustomerRef,
    LinkCustomerInput,
    MessageLink,
    ProjectionInput,
    TicketEventRecord,
    TicketSnapshot,
)
from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, Message, Ticket, TicketEvent, TicketRating
from tests.helpers import Stack


def store(stack: Stack) -> TicketStore:
    return TicketStore(stack.sessions, stack.settings)


def snapshot(number: str, seq: int, state: str, **extra: object) -> TicketSnapshot:
    values: dict[str, object] = {
        "number": number,
        "subject": "Projection test",
        "state": state,
        "state_label": state.title(),
        "state_category": "open",
        "process_name": "support",
        "process_version": 1,
        "seq": seq,
        "created_at": "2026-11-23T10:00:00+00:00",
        "updated_at": f"2026-11-23T10:00:{seq:02d}+00:00",
    }
    values.update(extra)
    return TicketSnapshot(**values)  # type: ignore[arg-type]


def event(seq: int, kind: str = "action") -> TicketEventRecord:
    return TicketEventRecord(seq=seq, kind=kind, at=f"2026-11-23T10:00:{seq:02d}+00:00")


def test_late_projection_never_moves_a_ticket_backwards(any_stack: Stack) -> None:
    number = f"P-{uuid.uuid4().hex[:8]}"
    activities = store(any_stack)
    activities.project(ProjectionInput(snapshot(number, 5, "resolved"), [event(5)]))
    activities.project(ProjectionInput(snapshot(number, 3, "open", assignee="late"), [event(3)]))
    with any_stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        assert (ticket.state, ticket.event_seq, ticket.assignee) == ("resolved", 5, None)
        # The late write's event is still recorded: the timeline is complete, the state is not
        # moved.
        seqs = session.scalars(
            select(TicketEvent.seq)
            .where(TicketEvent.ticket_number == number)
            .order_by(TicketEvent.seq)
        ).all()
        assert seqs == [3, 5]


def test_newer_projection_replaces_the_older_one(any_stack: Stack) -> None:
    number = f"P-{uuid.uuid4().hex[:8]}"
    activities = store(any_stack)
    activities.project(ProjectionInput(snapshot(number, 1, "new"), [event(1, "created")]))
    activities.project(ProjectionInput(snapshot(number, 2, "open", assignee="agent2"), [event(2)]))
    with any_stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and (ticket.state, ticket.assignee) == ("open", "agent2")


def test_repeated_projection_writes_each_event_once(any_stack: Stack) -> None:
    number = f"P-{uuid.uuid4().hex[:8]}"
    activities = store(any_stack)
    projection = ProjectionInput(snapshot(number, 2, "open"), [event(1, "created"), event(2)])
    activities.project(projection)
    activities.project(projection)
    with any_stack.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_number == number)
        )
        assert count == 2


def add_message(stack: Stack, number: str, **extra: object) -> int:
    with transaction(stack.sessions) as session:
        message = Message(ticket_number=number, body="hello", **extra)
        session.add(message)
        session.flush()
        return message.id


def test_projection_attaches_only_messages_stored_for_that_ticket(any_stack: Stack) -> None:
    number = f"P-{uuid.uuid4().hex[:8]}"
    own = add_message(any_stack, number)
    foreign = add_message(any_stack, "SOMEONE-ELSE")
    attachments = [
        MessageLink(mid, "note", "agent", True, author="agent1") for mid in (own, foreign)
    ]
    store(any_stack).project(ProjectionInput(snapshot(number, 1, "new"), [], attachments))
    with any_stack.sessions() as session:
        assert session.get(Message, own).attached is True  # type: ignore[union-attr]
        assert session.get(Message, foreign).attached is False  # type: ignore[union-attr]


def test_delivery_status_never_goes_back_from_sent_to_queued(any_stack: Stack) -> None:
    number = f"P-{uuid.uuid4().hex[:8]}"
    mid = add_message(any_stack, number)
    activities = store(any_stack)
    sent = MessageLink(mid, "email", "agent", False, delivery_status="sent")
    activities.project(ProjectionInput(snapshot(number, 2, "open"), [], [sent]))
    activities.project(
        ProjectionInput(snapshot(number, 1, "open"), [], [replace(sent, delivery_status="queued")])
    )
    with any_stack.sessions() as session:
        assert session.get(Message, mid).delivery_status == "sent"  # type: ignore[union-attr]


def test_known_customer_is_found_by_email_whatever_its_case(any_stack: Stack) -> None:
    result = store(any_stack).link_customer(
        LinkCustomerInput("L-1", CustomerRef(email="JANA.Novakova@Example.com"))
    )
    with any_stack.sessions() as session:
        jana = session.scalar(select(Contact).where(Contact.email == "jana.novakova@example.com"))
        assert jana is not None and result.contact_id == jana.id
    assert result.customer_name == "Jana Nováková"


def test_known_customer_is_found_by_phone(any_stack: Stack) -> None:
    result = store(any_stack).link_customer(
        LinkCustomerInput("L-2", CustomerRef(phone="+420 605 111 222"))
    )
    assert result.customer_name == "Eva Dvořáková"


def test_unknown_customer_becomes_a_contact_once(any_stack: Stack) -> None:
    email = f"new-{uuid.uuid4().hex[:6]}@example.org"
    first = store(any_stack).link_customer(
        LinkCustomerInput("L-3", CustomerRef(email=email, name="Nova"))
    )
    second = store(any_stack).link_customer(LinkCustomerInput("L-4", CustomerRef(email=email)))
    assert first.contact_id is not None and first.contact_id == second.contact_id
    assert second.customer_name == "Nova"


def test_order_of_the_same_customer_is_linked(any_stack: Stack) -> None:
    result = store(any_stack).link_customer(
        LinkCustomerInput("L-5", CustomerRef(email="jana.novakova@example.com"), "ord-1001")
    )
    assert result.order_id is not None and result.order_note == ""


def test_someone_elses_order_is_not_linked(any_stack: Stack) -> None:
    result = store(any_stack).link_customer(
        LinkCustomerInput("L-6", CustomerRef(email="jana.novakova@example.com"), "ORD-1002")
    )
    assert result.order_id is None
    assert result.order_note == "Order ORD-1002 belongs to another customer."


def test_unknown_order_number_is_noted(any_stack: Stack) -> None:
    result = store(any_stack).link_customer(
        LinkCustomerInput("L-7", CustomerRef(email="jana.novakova@example.com"), "ORD-9999")
    )
    assert result.order_id is None and result.order_note == "No order ORD-9999 was found."


def contact_id(stack: Stack, email: str) -> int:
    with stack.sessions() as session:
        found = session.scalar(select(Contact.id).where(Contact.email == email))
        assert found is not None
        return found


def test_assignment_prefers_the_customers_account_owner(any_stack: Stack) -> None:
    result = store(any_stack).choose_assignee(
        AssignmentInput("A-1", "web", contact_id(any_stack, "jana.novakova@example.com"))
    )
    assert (result.assignee, result.group, result.reason) == ("agent1", "Support", "account_owner")


def test_assignment_uses_the_organisations_account_owner(any_stack: Stack) -> None:
    result = store(any_stack).choose_assignee(
        AssignmentInput("A-2", "web", contact_id(any_stack, "petr@acme.example"))
    )
    assert (result.assignee, result.reason) == ("agent2", "account_owner")


def test_assignment_falls_back_to_the_channels_owner(any_stack: Stack) -> None:
    result = store(any_stack).choose_assignee(AssignmentInput("A-3", "support", None))
    assert (result.assignee, result.reason) == ("agent1", "channel_owner")


def test_assignment_falls_back_to_the_helpdesk_default(any_stack: Stack) -> None:
    settings = any_stack.settings.model_copy(update={"default_assignee": "agent2"})
    result = TicketStore(any_stack.sessions, settings).choose_assignee(
        AssignmentInput("A-4", "web", None)
    )
    assert (result.assignee, result.group, result.reason) == ("agent2", "Support", "default")
    nobody = store(any_stack).choose_assignee(AssignmentInput("A-5", "web", None))
    assert (nobody.assignee, nobody.group) == (None, "Support")


def test_a_state_label_published_before_it_was_checked_is_projected_shortened(
    any_stack: Stack,
) -> None:
    """Definitions published before labels were checked at save may carry a longer one: the
    ticket's row shows it shortened instead of the projection failing for ever."""
    number = f"P-{uuid.uuid4().hex[:8]}"
    label = "L" * 150
    store(any_stack).project(
        ProjectionInput(snapshot(number, 1, "new", state_label=label), [event(1, "created")])
    )
    with any_stack.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.state_label == label[:99] + "…"


def search_text_of(stack: Stack, number: str) -> str:
    with stack.sessions() as session:
        return session.scalar(select(Ticket.search_text).where(Ticket.number == number)) or ""


def test_the_ticket_is_found_by_its_fields_from_the_start_and_after_an_action_sets_one(
    any_stack: Stack,
) -> None:
    number = f"FLD-{uuid.uuid4().hex[:8]}"
    activities = store(any_stack)
    fields = {"serial": "SN-4711-X", "quantity": 3, "urgent": True}
    activities.project(
        ProjectionInput(snapshot(number, 1, "new", fields=fields), [event(1, "created")])
    )
    text = search_text_of(any_stack, number)
    assert "SN-4711-X" in text and "3" in text.splitlines() and "True" not in text
    changed = {**fields, "complaint": "Rozbitá konvice"}
    set_event = replace(event(2), data={"set": {"complaint": "Rozbitá konvice"}})
    activities.project(ProjectionInput(snapshot(number, 2, "open", fields=changed), [set_event]))
    assert "Rozbitá konvice" in search_text_of(any_stack, number)


def rated(seq: int, score: int, asked_seq: int = 2) -> TicketEventRecord:
    data = {"score": score, "asked_seq": asked_seq, "agent": "agent1", "via": "email"}
    return replace(event(seq, "rated"), data=data)


def test_ratings_keep_one_row_per_answer_the_latest_and_a_late_one_changes_nothing(
    any_stack: Stack,
) -> None:
    number = f"P-{uuid.uuid4().hex[:8]}"
    activities = store(any_stack)
    asked = {"rating_asked_seq": 2, "rating_agent": "agent1"}
    first = ProjectionInput(
        snapshot(number, 3, "resolved", rating_score=2, rated_at=event(3).at, **asked),
        [rated(3, 2)],
    )
    activities.project(first)
    activities.project(
        ProjectionInput(
            snapshot(number, 4, "resolved", rating_score=5, rated_at=event(4).at, **asked),
            [rated(4, 5)],
        )
    )
    activities.project(first)  # late or retried: the rating stays 5
    with any_stack.sessions() as session:
        rows = session.scalars(select(TicketRating).where(TicketRating.ticket_number == number))
        assert [(r.asked_seq, r.score, r.event_seq, r.agent) for r in rows] == [(2, 5, 4, "agent1")]
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        assert (ticket.rating_score, ticket.rating_asked_seq, ticket.rating_agent) == (
            5,
            2,
            "agent1",
        )
