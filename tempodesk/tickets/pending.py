"""Accepted requests whose ticket is not started yet (``pending_starts``), and starting them.

Intake stores the workflow's start input with the reservation, in the same transaction; the
ticket's opening step deletes it. What is left (Temporal was away, the web process died
between storing and starting) the worker starts: ``resume_pending``. Starting twice is
harmless (update-with-start by ticket number).

The input is stored without the process document: the pinned version is immutable and its
row in ``process_versions`` says the same, so only its name and version are kept.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from tempodesk.contracts import TicketStartInput
from tempodesk.core.db import transaction
from tempodesk.core.models import PendingStart, Ticket
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import AsyncFacade, EngineUnavailable
from tempodesk.tickets import processes

log = logging.getLogger(__name__)


def remember(session: Session, start: TicketStartInput) -> None:
    """Keep the start input until the ticket's opening step deletes it."""
    slim = replace(start, process=replace(start.process, document=""))
    [payload] = DataConverter.default.payload_converter.to_payloads([slim])
    session.add(PendingStart(ticket_number=start.number, payload=payload.data.decode("utf-8")))


def recall(session: Session, number: str) -> TicketStartInput | None:
    """The remembered start input of this ticket, its process document restored."""
    pending = session.get(PendingStart, number)
    return None if pending is None else _decode(session, pending.payload)


def _decode(session: Session, text: str) -> TicketStartInput:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=text.encode("utf-8"))
    [start] = DataConverter.default.payload_converter.from_payloads([payload], [TicketStartInput])
    assert isinstance(start, TicketStartInput)
    if not start.process.document:
        start.process = processes.pin_version(session, start.process.name, start.process.version)
    return start


def waiting(
    sessions: sessionmaker[Session], older_than: timedelta, limit: int
) -> list[TicketStartInput]:
    """Start inputs accepted at least ``older_than`` ago whose ticket does not exist; rows of
    tickets that do exist (opened by an older worker, which did not delete them) go."""
    cutoff = datetime.now(UTC) - older_than
    with transaction(sessions) as session:
        rows = list(
            session.scalars(
                select(PendingStart)
                .where(PendingStart.created_at <= cutoff)
                .order_by(PendingStart.created_at)
                .limit(limit)
            )
        )
        numbers = [row.ticket_number for row in rows]
        opened = set(session.scalars(select(Ticket.number).where(Ticket.number.in_(numbers))))
        if opened:
            session.execute(delete(PendingStart).where(PendingStart.ticket_number.in_(opened)))
        return [_decode(session, row.payload) for row in rows if row.ticket_number not in opened]


def attempted(sessions: sessionmaker[Session], number: str, error: str) -> None:
    """Count a failed start, with its reason (for ops)."""
    with transaction(sessions) as session:
        session.execute(
            update(PendingStart)
            .where(PendingStart.ticket_number == number)
            .values(attempts=PendingStart.attempts + 1, last_error=error[:2000])
        )


async def resume_pending(
    sessions: sessionmaker[Session],
    settings: Settings,
    temporal: AsyncFacade,
    *,
    older_than: timedelta | None = None,
    limit: int = 100,
) -> int:
    """Start the tickets accepted at least ``older_than`` ago (``resume_pending_seconds`` by
    default: younger ones may still be waiting in their web request) and not started since.
    Returns how many were started; stops at the first one the engine does not answer for."""
    if older_than is None:
        older_than = timedelta(seconds=settings.resume_pending_seconds)
    started = 0
    for start in await asyncio.to_thread(waiting, sessions, older_than, limit):
        try:
            await temporal.start_ticket(start)
        except EngineUnavailable as exc:
            await asyncio.to_thread(attempted, sessions, start.number, str(exc))
            log.warning("ticket %s still waits for the engine", start.number)
            break
        except Exception as exc:  # kept (with the reason) for ops; the rest go on
            await asyncio.to_thread(
                attempted, sessions, start.number, f"{type(exc).__name__}: {exc}"
            )
            log.exception("ticket %s could not be started", start.number)
            continue
        started += 1
        log.info("started ticket %s, accepted while the engine was away", start.number)
    return started
