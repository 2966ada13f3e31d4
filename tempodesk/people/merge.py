"""Merging duplicate contacts: orders move, tickets are told by their workflows."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.contracts import Actor, RelinkContactInput
from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, Order, Ticket
from tempodesk.core.temporal import TemporalFacade, TicketNotFound
from tempodesk.people.common import CustomerInvalid
from tempodesk.people.contacts import contact_label

log = logging.getLogger(__name__)


@dataclass
class MergeReport:
    kept: int
    removed: str  # a label of the duplicate, which no longer exists
    relinked: list[str] = field(default_factory=list)  # open tickets, told by their workflows
    closed: list[str] = field(default_factory=list)  # ended tickets, projection row updated
    orders: int = 0


def merge_contacts(
    sessions: sessionmaker[Session],
    temporal: TemporalFacade,
    keep_id: int,
    duplicate_id: int,
    actor: Actor,
) -> MergeReport:
    """Merge a duplicate contact into ``keep_id`` and delete the duplicate.

    Orders move to the kept contact; the kept contact's empty name, email, phone,
    organisation and account owner are filled from the duplicate; nothing else moves.
    Each ticket of the duplicate is relinked:

    - an open ticket by its workflow: the ``relink_contact`` signal (a timeline event
      "contact_changed"; the workflow's projection writes the row);
    - **the one exception to "the web never writes ticket state":** a ticket whose workflow
      has ended (the signal raises TicketNotFound) has nobody left to tell, so its projection
      row's ``contact_id`` (with the customer's email and name) is updated here directly.
      That changes no state, adds no event, and is what a reopening run is restored from.

    Temporal is called with no database connection held. Repeating a merge that failed half
    way is safe (a workflow ignores a relink to the contact it has already).
    """
    if keep_id == duplicate_id:
        raise CustomerInvalid({"duplicate_id": "A contact cannot be merged into itself."})
    relink, removed, numbers = _plan(sessions, keep_id, duplicate_id, actor)
    report = MergeReport(kept=keep_id, removed=removed)
    _tell_workflows(temporal, numbers, relink, report)
    with transaction(sessions) as session:
        _merge_rows(session, duplicate_id, relink, report)
    log.info(
        "%s merged contact %s (%s) into contact %s: %d open and %d closed tickets, %d orders",
        actor.username,
        duplicate_id,
        removed,
        keep_id,
        len(report.relinked),
        len(report.closed),
        report.orders,
    )
    return report


def _plan(
    sessions: sessionmaker[Session], keep_id: int, duplicate_id: int, actor: Actor
) -> tuple[RelinkContactInput, str, list[str]]:
    """(what the duplicate's tickets are told, the duplicate's label, those tickets' numbers),
    read in a session that is closed before Temporal is called."""
    with sessions() as session:
        keep, duplicate = session.get(Contact, keep_id), session.get(Contact, duplicate_id)
        if keep is None or duplicate is None:
            raise CustomerInvalid({"duplicate_id": "Choose an existing contact."})
        relink = RelinkContactInput(
            contact_id=keep_id,
            customer_email=keep.email or duplicate.email or "",
            customer_name=keep.name or duplicate.name,
            actor=actor.username,
        )
        numbers = list(
            session.scalars(
                select(Ticket.number).where(Ticket.contact_id == duplicate_id).order_by(Ticket.id)
            )
        )
        return relink, contact_label(duplicate), numbers


def _tell_workflows(
    temporal: TemporalFacade, numbers: list[str], relink: RelinkContactInput, report: MergeReport
) -> None:
    """Signal each ticket's workflow; one that has ended goes to ``report.closed``."""
    for number in numbers:
        try:
            temporal.relink_contact(number, relink)
            report.relinked.append(number)
        except TicketNotFound:
            report.closed.append(number)


def _merge_rows(
    session: Session, duplicate_id: int, relink: RelinkContactInput, report: MergeReport
) -> None:
    """Move the orders and the ended tickets to the kept contact, fill its empty details from
    the duplicate, and delete the duplicate."""
    keep_id = relink.contact_id
    keep, duplicate = session.get(Contact, keep_id), session.get(Contact, duplicate_id)
    if keep is None or duplicate is None:
        raise CustomerInvalid({"duplicate_id": "One of the contacts was removed meanwhile."})
    moved = session.execute(
        update(Order).where(Order.contact_id == duplicate_id).values(contact_id=keep_id)
    )
    report.orders = cast(CursorResult[Any], moved).rowcount or 0
    relink_ended_tickets(
        session, report.closed, duplicate_id, keep_id, relink.customer_email, relink.customer_name
    )
    taken = {
        "email": duplicate.email,
        "phone": duplicate.phone,
        "name": duplicate.name,
        "organisation_id": duplicate.organisation_id,
        "account_owner": duplicate.account_owner,
    }
    session.delete(duplicate)
    session.flush()  # the duplicate's email is free for the kept contact now
    for attribute, value in taken.items():
        if value and not getattr(keep, attribute):
            setattr(keep, attribute, value)


def relink_ended_tickets(
    session: Session, numbers: list[str], duplicate_id: int, keep_id: int, email: str, name: str
) -> None:
    """**The one write to the tickets table outside a workflow** (ARCHITECTURE.md): tickets
    whose workflow has ended have nobody left to tell, so their projection rows point at the
    kept contact from now on. No state changes and no event is added; a run that reopens such
    a ticket is restored from this row. ``tests/test_architecture.py`` allows this function
    and nothing else reachable from the web."""
    if not numbers:
        return
    session.execute(
        update(Ticket)
        .where(Ticket.number.in_(numbers))
        .where(Ticket.contact_id == duplicate_id)
        .values(contact_id=keep_id, customer_email=email, customer_name=name)
    )
