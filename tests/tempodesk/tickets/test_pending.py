"""Accepted tickets whose opening fails: the failure is final for that run (no retry loop),
recorded on the pending start for ops, backed off per row so it blocks no later ticket, and
dead-lettered after ``pending_start_attempts`` tries (counted on /readyz)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from temporalio.client import Client, WorkflowExecutionStatus

from tempodesk.contracts import CustomerRef
from tempodesk.core.db import transaction
from tempodesk.core.ids import ticket_workflow_id
from tempodesk.core.models import PendingStart, Ticket
from tempodesk.core.temporal import OpeningFailed
from tempodesk.tickets import pending
from tempodesk.tickets.intake import Accepted, NewTicket
from tests.helpers import Stack


def accept_unchecked(stack: Stack, customer: CustomerRef) -> Accepted:
    """Store a request the way intake does, past the edge's checks (as an older version or a
    bug would have): its pending start carries what the database will refuse."""
    request = NewTicket(subject="Poison", body="Cannot be opened.", customer=customer)
    with transaction(stack.sessions) as session:
        return stack.runtime.intake._accept(session, request, f"test:{uuid.uuid4()}")


def workflow_status(stack: Stack, number: str) -> WorkflowExecutionStatus | None:
    async def describe() -> WorkflowExecutionStatus | None:
        client = await Client.connect(
            stack.settings.temporal_target, namespace=stack.settings.temporal_namespace
        )
        return (await client.get_workflow_handle(ticket_workflow_id(number)).describe()).status

    return asyncio.run(describe())


def opened(stack: Stack, number: str) -> bool:
    with stack.sessions() as session:
        return session.scalar(select(Ticket.id).where(Ticket.number == number)) is not None


def row(stack: Stack, number: str) -> PendingStart | None:
    with stack.sessions() as session:
        return session.get(PendingStart, number)


@pytest.mark.parametrize(
    "customer, reason",
    [
        (CustomerRef(email="refused.phone@example.com", phone="1" * 40), "contacts.phone"),
        (CustomerRef(email="nul.name@example.com", name="Nul\x00Name"), "DataError"),
    ],
)
def test_an_opening_the_database_refuses_fails_at_once_and_says_why(
    stack: Stack, customer: CustomerRef, reason: str
) -> None:
    accepted = accept_unchecked(stack, customer)
    assert accepted.start is not None
    began = time.monotonic()
    with pytest.raises(OpeningFailed):
        stack.runtime.temporal.start_ticket(accepted.start)
    assert time.monotonic() - began < 10  # not the update's timeout: no retry loop
    assert workflow_status(stack, accepted.number) == WorkflowExecutionStatus.FAILED
    waiting = row(stack, accepted.number)
    assert waiting is not None and waiting.attempts == 1 and reason in waiting.last_error
    assert waiting.next_attempt_at is not None and waiting.dead_at is None
    assert not opened(stack, accepted.number)


def test_a_poisoned_start_blocks_no_later_one_and_is_dead_lettered_after_n_rounds(
    stack: Stack,
) -> None:
    poisoned = accept_unchecked(
        stack, CustomerRef(email="poisoned.start@example.com", phone="9" * 40)
    )
    good = accept_unchecked(stack, CustomerRef(email="later.good.start@example.com", name="Good"))
    healthz = stack.client().get("/readyz").get_json()["dead_letter_starts"]
    attempts = stack.settings.pending_start_attempts
    for round_ in range(1, attempts + 1):
        stack.runtime.intake.resume_pending(older_than=timedelta(0))
        assert opened(stack, good.number), "the later, good start was held up"
        waiting = row(stack, poisoned.number)
        assert waiting is not None and waiting.attempts == round_
        with transaction(stack.sessions) as session:  # its back-off has passed
            session.execute(
                update(PendingStart)
                .where(PendingStart.ticket_number == poisoned.number)
                .values(next_attempt_at=None)
            )
    dead = row(stack, poisoned.number)
    assert dead is not None and dead.dead_at is not None and "contacts.phone" in dead.last_error
    assert stack.client().get("/readyz").get_json()["dead_letter_starts"] == healthz + 1
    stack.runtime.intake.resume_pending(older_than=timedelta(0))
    assert row(stack, poisoned.number).attempts == attempts  # type: ignore[union-attr]

    assert pending.retry(stack.sessions, poisoned.number) == 1  # ops: try it again
    assert stack.client().get("/readyz").get_json()["dead_letter_starts"] == healthz
    stack.runtime.intake.resume_pending(older_than=timedelta(0))
    assert row(stack, poisoned.number).attempts == 1  # type: ignore[union-attr]
