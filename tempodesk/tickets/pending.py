"""Accepted requests whose ticket is not started yet (``pending_starts``), and starting them.

Intake stores the workflow's start input with the reservation, in the same transaction; the
ticket's opening step deletes it. What is left (Temporal was away, the web process died
between storing and starting) the worker starts: ``resume_pending``. Starting twice is
harmless (update-with-start by ticket number). A start that fails (the opening step's
database refused it) backs off on its own row and holds up no other; after
``pending_start_attempts`` failures it is dead-lettered until ops ``retry`` it.

The input is stored without the process document: the pinned version is immutable and its
row in ``process_versions`` says the same, so only its name and version are kept.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload

from tempodesk.contracts import TicketStartInput
from tempodesk.core.converter import PAYLOADS
from tempodesk.core.db import transaction
from tempodesk.core.models import PendingStart, Ticket
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import AsyncFacade, EngineUnavailable, OpeningFailed
from tempodesk.tickets import processes

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0  # seconds: a failing start is tried at least hourly until dead-lettered


def remember(session: Session, start: TicketStartInput) -> None:
    """Keep the start input until the ticket's opening step deletes it."""
    slim = replace(start, process=replace(start.process, document=""))
    [payload] = PAYLOADS.to_payloads([slim])
    session.add(PendingStart(ticket_number=start.number, payload=payload.data.decode("utf-8")))


def recall(session: Session, number: str) -> TicketStartInput | None:
    """The remembered start input of this ticket, its process document restored."""
    pending = session.get(PendingStart, number)
    return None if pending is None else _decode(session, pending.payload)


def _decode(session: Session, text: str) -> TicketStartInput:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=text.encode("utf-8"))
    [start] = PAYLOADS.from_payloads([payload], [TicketStartInput])
    assert isinstance(start, TicketStartInput)
    if not start.process.document:
        start.process = processes.pin_version(session, start.process.name, start.process.version)
    return start


def waiting(
    sessions: sessionmaker[Session], older_than: timedelta, limit: int
) -> list[TicketStartInput]:
    """Start inputs accepted at least ``older_than`` ago whose ticket does not exist, not
    dead-lettered and not backing off after a failure; rows of tickets that do exist (opened by
    an older worker, which did not delete them) go."""
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        rows = list(
            session.scalars(
                select(PendingStart)
                .where(PendingStart.created_at <= now - older_than)
                .where(PendingStart.dead_at.is_(None))
                .where(
                    or_(PendingStart.next_attempt_at.is_(None), PendingStart.next_attempt_at <= now)
                )
                .order_by(PendingStart.created_at)
                .limit(limit)
            )
        )
        numbers = [row.ticket_number for row in rows]
        opened = set(session.scalars(select(Ticket.number).where(Ticket.number.in_(numbers))))
        if opened:
            session.execute(delete(PendingStart).where(PendingStart.ticket_number.in_(opened)))
        return [_decode(session, row.payload) for row in rows if row.ticket_number not in opened]


def attempted(
    sessions: sessionmaker[Session],
    settings: Settings,
    number: str,
    error: str,
    *,
    counted: bool = True,
) -> None:
    """Record a failed start with its reason (for ops) and back off: this row waits, the
    others go on. A ``counted`` failure (not "the engine is away") doubles the wait each time;
    after ``pending_start_attempts`` of them the row is dead-lettered until ops retry it."""
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        row = session.get(PendingStart, number, with_for_update=True)
        if row is None:
            return
        row.last_error = error[:2000]
        base = settings.resume_pending_seconds
        if not counted:
            row.next_attempt_at = now + timedelta(seconds=base)
            return
        row.attempts += 1
        row.next_attempt_at = now + timedelta(seconds=min(base * 2**row.attempts, MAX_BACKOFF))
        if row.attempts >= settings.pending_start_attempts:
            row.dead_at = now
            log.error("ticket %s is dead-lettered after %s attempts", number, row.attempts)


def retry(sessions: sessionmaker[Session], number: str | None = None) -> int:
    """Ops: try dead-lettered or backing-off starts again at the next round (one ticket, or
    all); returns how many."""
    with transaction(sessions) as session:
        stmt = update(PendingStart).where(
            or_(PendingStart.dead_at.is_not(None), PendingStart.next_attempt_at.is_not(None))
        )
        if number is not None:
            stmt = stmt.where(PendingStart.ticket_number == number)
        result = session.execute(stmt.values(dead_at=None, next_attempt_at=None, attempts=0))
        return int(getattr(result, "rowcount", 0) or 0)


def dead_count(session: Session) -> int:
    """How many accepted tickets wait for ops (dead-lettered starts)."""
    found = session.scalar(
        select(func.count()).select_from(PendingStart).where(PendingStart.dead_at.is_not(None))
    )
    return int(found or 0)


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
    Returns how many were started; stops at the first one the engine does not answer for. A
    start that fails waits (``attempted``) and the later ones go on."""
    if older_than is None:
        older_than = timedelta(seconds=settings.resume_pending_seconds)
    started = 0
    for start in await asyncio.to_thread(waiting, sessions, older_than, limit):
        try:
            await temporal.start_ticket(start)
        except OpeningFailed as exc:
            if not exc.recorded:  # else the opening step counted it, with its reason
                await asyncio.to_thread(attempted, sessions, settings, start.number, str(exc))
            log.warning("ticket %s could not be opened: %s", start.number, exc)
            continue
        except EngineUnavailable as exc:
            await asyncio.to_thread(
                attempted, sessions, settings, start.number, str(exc), counted=False
            )
            log.warning("ticket %s still waits for the engine", start.number)
            break
        except Exception as exc:  # kept (with the reason) for ops; the rest go on
            await asyncio.to_thread(
                attempted, sessions, settings, start.number, f"{type(exc).__name__}: {exc}"
            )
            log.exception("ticket %s could not be started", start.number)
            continue
        started += 1
        log.info("started ticket %s, accepted while the engine was away", start.number)
    return started
