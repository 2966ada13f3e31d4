"""The retention rule: closed tickets untouched for N months are anonymised or deleted (by a
Temporal schedule: ``workflows/retention.py``). A month is 30 days here."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core import audit
from tempodesk.core.models import Ticket

from .forget import ANONYMOUS, Forgotten, Mode, forget_tickets

BATCH = 200


def cutoff(now: datetime, months: int) -> datetime:
    return now - timedelta(days=30 * months)


def due_tickets(
    session: Session, *, now: datetime, months: int, limit: int = BATCH
) -> list[Ticket]:
    """Closed (or merged) tickets last changed before the cutoff, not anonymised yet."""
    query = (
        select(Ticket)
        .where(
            Ticket.state_category.in_(("closed", "merged")),
            Ticket.updated_at < cutoff(now, months),
            Ticket.customer_name != ANONYMOUS,
        )
        .order_by(Ticket.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def apply_retention(
    session: Session,
    *,
    now: datetime,
    months: int,
    mode: Mode,
    actor: str = "schedule",
    actor_kind: str = "system",
) -> Forgotten:
    """One batch of the rule; call again while it forgets tickets. A batch that forgets any
    ticket is audited (``gdpr.retention``, with the ticket numbers) in the same transaction."""
    done = forget_tickets(session, due_tickets(session, now=now, months=months), mode)
    if done.tickets:
        audit.record(
            session,
            "gdpr.retention",
            actor=actor,
            actor_kind=actor_kind,
            object_type="ticket",
            after={"mode": mode, "months": months, "tickets": done.tickets},
        )
    return done
