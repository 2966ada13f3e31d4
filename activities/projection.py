"""The ticket projection: what the workflow knows about a ticket, written to the database.

Every write is guarded so a retried or late one never moves a ticket backwards: the ticket
row only if its event sequence is newer, events once per sequence number, messages attached
only to the ticket they were stored for, delivery statuses never downgraded. Only the
workflow's activities call this (the web never writes a ticket: tests/test_architecture.py).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from statemachines import RESOLVED_CATEGORIES
from tempodesk.contracts import (
    LINK_INVERSE,
    MessageLink,
    ProjectionInput,
    TicketEventRecord,
    TicketSnapshot,
)
from tempodesk.core.db import upsert
from tempodesk.core.ids import ticket_workflow_id
from tempodesk.core.limits import fit
from tempodesk.core.models import (
    DELIVERY_RANK,
    Attachment,
    Contact,
    Message,
    Order,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketRating,
    TicketTag,
)
from tempodesk.sla.clocks import SlaClocks
from tempodesk.sla.entitlements import account_projection
from tempodesk.telephony import calls
from tempodesk.tickets import lists
from tempodesk.webhooks import events as webhook_events

# A later delivery status never gives way to an earlier one.


def write_projection(session: Session, input: ProjectionInput) -> set[int]:
    """The ticket row, its new events and its messages, in the caller's transaction; the
    webhook deliveries of its events too (a transactional outbox: ``webhooks.events``).
    Returns the webhook subscriptions that got deliveries, to wake after the commit."""
    snap = input.snapshot
    _write_ticket(session, snap)
    for event in input.events:
        _write_event(session, snap.number, event)
        if event.kind == "rated":
            _write_rating(session, snap.number, event)
        if event.data.get("call_outcome"):
            outcome, message_id = event.data["call_outcome"], event.message_id
            calls.note_outcome(session, snap.number, event.seq, outcome, message_id)
    for link in input.messages:
        _attach(session, snap.number, link, snap.merged_into)
    if snap.time_spent or snap.state_category in RESOLVED_CATEGORIES:
        resolved = snap.state_category in RESOLVED_CATEGORIES
        today = datetime.now(UTC).date()
        account_projection(
            session, snap.number, snap.contact_id, snap.channel, resolved, snap.time_spent, today
        )
    if any(link.sender_role == "agent" and not link.internal for link in input.messages):
        _keep_first_response_at(session, snap.number)
    _write_relations(session, snap, input.events)
    if _move_split_messages(session, snap.number, input.events):
        index_search_text(session, snap.number)
    moved = _move_merged_messages(session, snap, input.events)
    # A new ticket, a new message, or a field an action set (``set_field``) changes what
    # search finds it by.
    if input.messages or any(
        e.kind == "created" or "set" in e.data or "tags" in e.data for e in input.events
    ):
        index_search_text(session, snap.number)
    if moved:
        index_search_text(session, moved)
    return webhook_events.queue(session, input)


def _write_ticket(session: Session, snap: TicketSnapshot) -> None:
    # Display copies are fitted to their columns: a definition published before its labels
    # were checked must not make every later write of this ticket fail.
    values: dict[str, Any] = {
        "number": snap.number,
        "workflow_id": ticket_workflow_id(snap.number),
        "event_seq": snap.seq,
        "subject": fit(snap.subject, Ticket.subject),
        "state": snap.state,
        "state_label": fit(snap.state_label, Ticket.state_label),
        "state_category": snap.state_category,
        "process_name": snap.process_name,
        "process_version": snap.process_version,
        "channel": snap.channel,
        "priority": snap.priority,
        "assignee": snap.assignee,
        "group_name": snap.group,
        "contact_id": snap.contact_id,
        "order_id": snap.order_id,
        "customer_email": snap.customer_email,
        "customer_name": fit(snap.customer_name, Ticket.customer_name),
        "mailbox": snap.mailbox or None,
        "form": snap.form or None,
        "fields": snap.fields,
        "created_at": _parse_time(snap.created_at),
        "updated_at": _parse_time(snap.updated_at),
        "rating_asked_seq": snap.rating_asked_seq or None,
        "rating_agent": fit(snap.rating_agent, Ticket.rating_agent) or None,
        "rating_score": snap.rating_score or None,
        "rated_at": _parse_time(snap.rated_at) if snap.rated_at else None,
        "merged_into": snap.merged_into or None,
        "time_spent": snap.time_spent,
        **_sla_columns(snap),
        "resolved_at": _resolved_at(snap),
    }
    upsert(
        session,
        Ticket,
        values,
        on=["number"],
        update=[k for k in values if k not in ("number", "created_at", "resolved_at")],
        where=lambda new: Ticket.event_seq < new.event_seq,
        computed=lambda new: {"resolved_at": _keep_resolved_at(snap, new)},
    )


def _sla_columns(snap: TicketSnapshot) -> dict[str, Any]:
    """The SLA block (policy and clocks) and what lists sort and filter by."""
    if snap.sla.policy is None:
        return {"sla": None, "sla_due_at": None, "sla_breached": False}
    breached, due_at = SlaClocks(snap.sla).index()
    return {"sla": asdict(snap.sla), "sla_due_at": due_at, "sla_breached": bool(breached)}


def _resolved_at(snap: TicketSnapshot) -> datetime | None:
    """When a ticket first written in this state was resolved (for the reports)."""
    if snap.state_category not in RESOLVED_CATEGORIES:
        return None
    return _parse_time(snap.state_entered_at or snap.updated_at)


def _keep_resolved_at(snap: TicketSnapshot, new: Any) -> Any:
    """When the ticket was resolved (for the reports), in the row's own upsert: set when it
    enters a resolved or closed state, kept from resolved to closed, cleared when it
    reopens. Only the snapshot that writes the row acts (the upsert's ``event_seq`` guard
    skips a late, older one)."""
    if snap.state_category not in RESOLVED_CATEGORIES:
        return None
    return func.coalesce(Ticket.__table__.c.resolved_at, new.resolved_at)


def _keep_first_response_at(session: Session, number: str) -> None:
    """When the ticket was first answered (for the reports): its first public agent message
    on the timeline, set once."""
    first = (
        select(func.min(Message.created_at))
        .where(
            Message.ticket_number == number,
            Message.sender_role == "agent",
            Message.internal.is_(False),
            Message.attached.is_(True),
        )
        .scalar_subquery()
    )
    session.execute(
        update(Ticket)
        .where(Ticket.number == number, Ticket.first_response_at.is_(None))
        .values(first_response_at=first)
    )


def _write_event(session: Session, number: str, event: TicketEventRecord) -> None:
    upsert(
        session,
        TicketEvent,
        {
            "ticket_number": number,
            "seq": event.seq,
            "kind": event.kind,
            "action": event.action,
            "actor": event.actor,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "message_id": event.message_id,
            "data": event.data,
            "at": _parse_time(event.at),
        },
        on=["ticket_number", "seq"],
    )


def _write_rating(session: Session, number: str, event: TicketEventRecord) -> None:
    """One row per rated answer: a later rating of the same answer replaces it (the latest
    counts, once), an earlier one arriving late never does."""
    data = event.data
    values = {
        "ticket_number": number,
        "asked_seq": int(data.get("asked_seq", 0)),
        "agent": fit(str(data.get("agent", "")), TicketRating.agent),
        "score": int(data.get("score", 0)),
        "comment_message_id": data.get("comment_message_id"),
        "via": fit(str(data.get("via", "")), TicketRating.via),
        "event_seq": event.seq,
        "rated_at": _parse_time(event.at),
    }
    upsert(
        session,
        TicketRating,
        values,
        on=["ticket_number", "asked_seq"],
        update=["agent", "score", "comment_message_id", "via", "event_seq", "rated_at"],
        where=lambda new: TicketRating.event_seq < new.event_seq,
    )


def _write_relations(
    session: Session, snap: TicketSnapshot, events: list[TicketEventRecord]
) -> None:
    """Tags (the snapshot's, when an event changed them, unless a newer snapshot wrote the
    row meanwhile) and links (both rows, written by the ticket whose workflow was asked)."""
    if any("tags" in e.data for e in events):
        newest = session.scalar(select(Ticket.event_seq).where(Ticket.number == snap.number))
        if newest == snap.seq:
            session.execute(delete(TicketTag).where(TicketTag.ticket_number == snap.number))
            for tag in snap.tags:
                session.add(TicketTag(ticket_number=snap.number, tag=tag))
    for event in events:
        if event.kind not in ("linked", "unlinked") or not event.data.get("write"):
            continue
        other, kind = str(event.data.get("ticket", "")), str(event.data.get("kind", ""))
        pairs = ((snap.number, other, kind), (other, snap.number, LINK_INVERSE.get(kind, "")))
        for number, to, as_kind in pairs:
            session.execute(
                delete(TicketLink).where(
                    TicketLink.ticket_number == number, TicketLink.other_number == to
                )
            )
            if event.kind == "linked" and as_kind:
                wait = bool(event.data.get("wait")) and as_kind in ("parent", "child")
                session.add(
                    TicketLink(ticket_number=number, other_number=to, kind=as_kind, wait=wait)
                )
    session.flush()


def _move_split_messages(session: Session, number: str, events: list[TicketEventRecord]) -> bool:
    """A message split off (``split_off``): its copy on the new ticket (stored by the web with
    its text) takes its files, Message-ID (so replies to it thread there), raw mail, HTML and
    time, and the message leaves this ticket. Once: a retry finds nothing left to move."""
    moved = False
    for event in events:
        if event.kind != "split_off":
            continue
        source = session.scalar(
            select(Message).where(
                Message.id == int(event.data.get("message_id", 0)),
                Message.ticket_number == number,
            )
        )
        copy = session.scalar(
            select(Message).where(
                Message.id == int(event.data.get("copy_id", 0)),
                Message.ticket_number == str(event.data.get("into", "")),
            )
        )
        if source is None or copy is None:
            continue
        session.execute(
            update(Attachment).where(Attachment.message_id == source.id).values(message_id=copy.id)
        )
        kept = {
            "smtp_message_id": source.smtp_message_id,
            "inbound_id": source.inbound_id,
            "html": source.html,
            "created_at": source.created_at,
        }
        session.delete(source)  # its timeline events keep their place (message_id: NULL)
        session.flush()
        session.execute(update(Message).where(Message.id == copy.id).values(**kept))
        moved = True
    return moved


def _move_merged_messages(
    session: Session, snap: TicketSnapshot, events: list[TicketEventRecord]
) -> str:
    """A merge (either half: the merged ticket's ``merged`` event, the survivor's
    ``merged_in``) moves the merged ticket's messages to the survivor: by ticket number, so
    the second half, a retry or a late write moves nothing twice. The survivor to re-index."""
    for event in events:
        if event.kind == "merged":
            source, survivor = snap.number, str(event.data.get("into", ""))
        elif event.kind == "merged_in":
            source, survivor = str(event.data.get("ticket", "")), snap.number
        else:
            continue
        if source and survivor:
            session.execute(
                update(Message)
                .where(Message.ticket_number == source)
                .values(ticket_number=survivor)
            )
            # Only the survivor's own projection re-indexes it: the merged ticket's half
            # touches no row of the survivor's (two halves at once must not deadlock).
            return survivor if survivor == snap.number else ""
    return ""


def _attach(session: Session, number: str, link: MessageLink, merged_into: str = "") -> None:
    """Put a stored message on the timeline. Only a message stored for this very ticket, or
    for a ticket merged into it (a message the merged ticket passed on), which moves here; a
    merged ticket's last mail (its outbox drains after the merge) moves to the survivor."""
    merged = select(Ticket.number).where(Ticket.merged_into == number).scalar_subquery()
    message = session.scalar(
        select(Message)
        .where(Message.id == link.message_id)
        .where(or_(Message.ticket_number == number, Message.ticket_number.in_(merged)))
        .with_for_update()
    )
    if message is None:
        return
    changes: dict[str, Any] = {
        "ticket_number": merged_into or number,
        "attached": True,
        "channel": link.channel,
        "sender_role": link.sender_role,
        "internal": link.internal,
        "author": link.author or message.author,
        "recipient": link.recipient or message.recipient,
    }
    status = link.delivery_status
    if DELIVERY_RANK.get(status, 0) > DELIVERY_RANK.get(message.delivery_status, 0):
        changes["delivery_status"] = status
    session.execute(update(Message).where(Message.id == message.id).values(**changes))


def index_search_text(session: Session, number: str) -> None:
    """What full-text search finds a ticket by: its number, subject, customer, order, its
    fields' values (a web form's custom fields) and every message on it (agents search
    internal notes too)."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        return
    parts = [ticket.number, ticket.subject, ticket.customer_name, ticket.customer_email]
    if ticket.contact_id is not None:
        contact = session.get(Contact, ticket.contact_id)
        if contact is not None:
            parts += [contact.name, contact.email or "", contact.phone or ""]
    if ticket.order_id is not None:
        order = session.get(Order, ticket.order_id)
        if order is not None:
            parts.append(order.number)
    parts += lists.field_texts(ticket.fields or {})
    parts += session.scalars(select(TicketTag.tag).where(TicketTag.ticket_number == number))
    parts += session.scalars(
        select(Message.body)
        .where(Message.ticket_number == number)
        .where(Message.attached.is_(True))
        .order_by(Message.id)
    )
    text = lists.search_text(parts)
    if text != ticket.search_text:
        ticket.search_text = text


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)
