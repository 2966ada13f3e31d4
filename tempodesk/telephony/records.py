"""Communication records on a contact: calls (placed and rung in, see ``calls``), letters
and appointments an agent logs. Each may become a ticket (Dynamics' "convert to case"); the
records of a ticket show with its timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tempodesk.core import limits
from tempodesk.core.models import CommRecord, Contact
from tempodesk.core.models.telephony import OUTCOMES, RECORD_KINDS
from tempodesk.people.addresses import normalize_phone

DIRECTIONS = ("in", "out")
NOTES_MAX = 20_000


class RecordInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class RecordData:
    """What an agent logs: a letter that came or went, an appointment, a call by hand."""

    kind: str = "letter"
    direction: str = "in"
    subject: str = ""
    notes: str = ""
    number: str = ""  # a call's other party
    outcome: str = ""  # a call's: agreed, not_reached, no_agreement
    at: datetime | None = None


def log_record(session: Session, contact: Contact, data: RecordData, agent: str) -> CommRecord:
    """Store a record an agent logged on ``contact`` (``RecordInvalid`` with every problem)."""
    errors: dict[str, str] = {}
    if data.kind not in RECORD_KINDS:
        errors["kind"] = f"Use one of: {', '.join(RECORD_KINDS)}."
    if data.direction not in DIRECTIONS:
        errors["direction"] = "Use in or out."
    if data.outcome and data.outcome not in OUTCOMES:
        errors["outcome"] = f"Use one of: {', '.join(OUTCOMES)}."
    subject = " ".join(data.subject.split())
    if not subject:
        errors["subject"] = "Enter a subject."
    if len(data.notes) > NOTES_MAX:
        errors["notes"] = f"At most {NOTES_MAX} characters."
    number = normalize_phone(data.number) if data.number.strip() else ""
    if data.number.strip() and not number:
        errors["number"] = "Enter a valid phone number."
    errors = limits.check({"subject": (subject, CommRecord.subject)}) | errors
    if errors:
        raise RecordInvalid(errors)
    record = CommRecord(
        kind=data.kind,
        direction=data.direction,
        contact_id=contact.id,
        agent=agent,
        number=number if data.kind == "call" else "",
        provider="agent",
        status="logged",
        outcome=data.outcome if data.kind == "call" else "",
        subject=subject,
        notes=data.notes.replace("\r\n", "\n"),
        created_by=agent,
    )
    if data.at is not None:
        record.at = data.at
    session.add(record)
    session.flush()
    return record


def records_of_contact(session: Session, contact_id: int, limit: int = 200) -> list[CommRecord]:
    return list(
        session.scalars(
            select(CommRecord)
            .where(CommRecord.contact_id == contact_id)
            .order_by(CommRecord.at.desc(), CommRecord.id.desc())
            .limit(limit)
        )
    )


def records_of_ticket(session: Session, ticket_number: str) -> list[CommRecord]:
    """The calls, letters and appointments of a ticket (placed from it, attached to it, or
    converted into it), oldest first: they show with its timeline."""
    return list(
        session.scalars(
            select(CommRecord)
            .where(
                or_(
                    CommRecord.ticket_number == ticket_number,
                    CommRecord.converted_ticket == ticket_number,
                )
            )
            .order_by(CommRecord.at, CommRecord.id)
        )
    )


def ticket_body(record: CommRecord, contact: Contact | None) -> tuple[str, str]:
    """The subject and the first message of a ticket made from ``record``."""
    who = (contact.name if contact else "") or record.number or "the customer"
    if record.kind == "call":
        heading = f"{'Call from' if record.direction == 'in' else 'Call to'} {who}"
    elif record.kind == "letter":
        heading = f"Letter {'from' if record.direction == 'in' else 'to'} {who}"
    else:
        heading = f"Appointment with {who}"
    subject = record.subject if record.subject not in ("", "Call", "Incoming call") else heading
    lines = [f"{heading} ({record.at:%Y-%m-%d %H:%M} UTC)."]
    if record.number:
        lines.append(f"Number: {record.number}")
    if record.notes:
        lines += ["", record.notes]
    return subject[:200], "\n".join(lines)


def mark_converted(session: Session, record: CommRecord, ticket_number: str) -> None:
    record.converted_ticket = ticket_number
    if record.ticket_number is None:
        record.ticket_number = ticket_number
