"""Everything about a person, as a zip: ``person.json`` (the contact, its history, orders,
portal sign-in links, tickets with their messages, timeline and ratings) beside every
attachment (``attachments/<message id>/<file name>``) and every mail as it arrived
(``mail/<inbound id>.eml``)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tempodesk.core.files import safe_filename
from tempodesk.core.models import (
    BulkMessage,
    BulkRecipient,
    ContactChange,
    InboundMessage,
    Message,
    Order,
    PortalLink,
    Ticket,
    TicketEvent,
    TicketRating,
)

from .subjects import Subject, find_subject

FORMAT = "tempodesk-gdpr-export/1"


def export_person(session: Session, email: str, *, now: datetime) -> tuple[bytes, Subject]:
    """The zip of everything held about the person with this address."""
    subject = find_subject(session, email)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        document: dict[str, Any] = {
            "format": FORMAT,
            "email": subject.email,
            "exported_at": now.isoformat(),
            "contact": _contact(session, subject),
            "tickets": [_ticket(session, t, archive) for t in subject.tickets],
            "mails": _mails(session, subject, archive),
        }
        archive.writestr("person.json", json.dumps(document, indent=2, ensure_ascii=False))
    return buffer.getvalue(), subject


def _contact(session: Session, subject: Subject) -> dict[str, Any] | None:
    contact = subject.contact
    if contact is None:
        return None
    changes = session.scalars(
        select(ContactChange)
        .where(ContactChange.contact_id == contact.id)
        .order_by(ContactChange.id)
    )
    orders = session.scalars(select(Order).where(Order.contact_id == contact.id).order_by(Order.id))
    links = session.scalars(select(PortalLink).where(PortalLink.contact_id == contact.id))
    return {
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "organisation": contact.organisation.name if contact.organisation else None,
        "language": contact.language,
        "non_essential_mail": contact.non_essential_mail,
        "has_portal_password": bool(contact.password_hash),
        "bounced_at": _iso(contact.bounced_at),
        "bounce_reason": contact.bounce_reason,
        "created_at": _iso(contact.created_at),
        "history": [
            {"at": _iso(c.changed_at), "by": c.changed_by, "field": c.field}
            | {"old": c.old_value, "new": c.new_value}
            for c in changes
        ],
        "orders": [
            {"number": o.number, "placed_at": _iso(o.placed_at), "status": o.status}
            | {"total": o.total, "items": o.items}
            for o in orders
        ],
        "portal_links": [
            {"created_at": _iso(link.created_at), "used_at": _iso(link.used_at)} for link in links
        ],
        "bulk_messages": [
            {"template": template, "status": row.status, "sent_at": _iso(row.sent_at)}
            for row, template in session.execute(
                select(BulkRecipient, BulkMessage.template)
                .join(BulkMessage, BulkMessage.id == BulkRecipient.bulk_id)
                .where(BulkRecipient.contact_id == contact.id)
                .order_by(BulkRecipient.id)
            )
        ],
    }


def _ticket(session: Session, ticket: Ticket, archive: zipfile.ZipFile) -> dict[str, Any]:
    messages = session.scalars(
        select(Message).where(Message.ticket_number == ticket.number).order_by(Message.id)
    )
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_number == ticket.number)
        .order_by(TicketEvent.seq)
    )
    ratings = session.scalars(
        select(TicketRating).where(TicketRating.ticket_number == ticket.number)
    )
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "state": ticket.state_label or ticket.state,
        "channel": ticket.channel,
        "customer": {"email": ticket.customer_email, "name": ticket.customer_name},
        "order": ticket.order.number if ticket.order else None,
        "fields": ticket.fields,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "messages": [_message(m, archive) for m in messages],
        "timeline": [
            {"seq": e.seq, "kind": e.kind, "action": e.action, "actor": e.actor}
            | {"from": e.from_state, "to": e.to_state, "at": _iso(e.at), "data": e.data}
            for e in events
        ],
        "ratings": [{"score": r.score, "rated_at": _iso(r.rated_at)} for r in ratings],
    }


def _message(message: Message, archive: zipfile.ZipFile) -> dict[str, Any]:
    files = []
    for attachment in message.attachments:
        name = f"attachments/{message.id}/{attachment.id}-{safe_filename(attachment.filename)}"
        archive.writestr(name, attachment.data)
        files.append({"filename": attachment.filename, "size": attachment.size, "file": name})
    return {
        "id": message.id,
        "channel": message.channel,
        "from": message.author,
        "to": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "internal": message.internal,
        "created_at": _iso(message.created_at),
        "attachments": files,
    }


def _mails(session: Session, subject: Subject, archive: zipfile.ZipFile) -> list[dict[str, Any]]:
    mails = session.scalars(
        select(InboundMessage)
        .where(
            or_(
                InboundMessage.sender == subject.email,
                InboundMessage.ticket_number.in_(subject.numbers),
            )
        )
        .order_by(InboundMessage.id)
    )
    found = []
    for mail in mails:
        name = f"mail/{mail.id}.eml"
        archive.writestr(name, mail.raw)
        found.append({"received_at": _iso(mail.received_at), "subject": mail.subject, "file": name})
    return found


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
