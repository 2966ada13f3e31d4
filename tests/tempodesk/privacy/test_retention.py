"""The retention schedule: registered by the worker (here by the facade, as the worker does
with TEMPODESK_RETENTION_MONTHS set), triggered, it anonymises closed tickets older than the
period and leaves newer ones alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tempodesk.contracts.privacy import RETENTION_SCHEDULE_ID
from tempodesk.core.db import transaction
from tempodesk.core.models import AuditEntry, Ticket, utcnow
from tempodesk.core.temporal import AsyncFacade
from tempodesk.core.temporal_client import connect
from tempodesk.privacy.forget import ANONYMOUS
from tests.helpers import Stack
from tests.tempodesk.privacy.test_gdpr import a_customer


@pytest.fixture
def retention(stack: Stack) -> Iterator[None]:
    """Retention on (1 month) for the stack's worker, and its schedule in place."""
    stack.settings.retention_months = 1
    asyncio.run(ensure(stack, 1))
    yield
    stack.settings.retention_months = 0
    asyncio.run(ensure(stack, 0))


async def ensure(stack: Stack, months: int) -> None:
    facade = AsyncFacade(await connect(stack.settings))
    await facade.ensure_retention_schedule(months, every_hours=24)


async def trigger(stack: Stack) -> None:
    client = await connect(stack.settings)
    await client.get_schedule_handle(RETENTION_SCHEDULE_ID).trigger()


def customer_name(stack: Stack, number: str) -> str:
    with stack.sessions() as session:
        found = session.scalar(select(Ticket.customer_name).where(Ticket.number == number))
        assert found is not None
        return found


def test_the_schedule_anonymises_closed_tickets_older_than_the_period(
    stack: Stack, retention: None
) -> None:
    old, recent = a_customer(stack), a_customer(stack)
    old_closed, recent_closed = old["tickets"][1], recent["tickets"][1]
    with transaction(stack.sessions) as session:
        session.execute(
            update(Ticket)
            .where(Ticket.number == old_closed)
            .values(updated_at=utcnow() - timedelta(days=45))
        )
    asyncio.run(trigger(stack))
    deadline = time.monotonic() + 60
    while customer_name(stack, old_closed) != ANONYMOUS:
        assert time.monotonic() < deadline, "the retention run never anonymised the ticket"
        time.sleep(0.2)
    assert customer_name(stack, recent_closed) == recent["name"]
    assert customer_name(stack, old["tickets"][0]) == old["name"]  # open: not retention's
    with stack.sessions() as session:
        batches = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "gdpr.retention")
        ).all()
    mine = [e for e in batches if e.after and old_closed in e.after["tickets"]]
    assert len(mine) == 1 and mine[0].actor == "schedule" and mine[0].actor_kind == "system"
    assert mine[0].after is not None and mine[0].after["mode"] == "anonymise"
