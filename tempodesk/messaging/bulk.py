"""Bulk messages: a non-essential template to every contact of a segment who accepts such mail
(``contacts.non_essential_mail``), has an address and has not bounced. Each recipient is a row
(unique per message and contact), written before anything is sent, so a contact is sent the
message once however often the sending workflow retries or restarts; consent is checked again
right before each send, so an unsubscribe during a long send is honoured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core.db import upsert
from tempodesk.core.models import BulkMessage, BulkRecipient, Contact, Organisation

from . import templates

BATCH = 100


class BulkInvalid(ValueError):
    """The message cannot be sent (unknown or essential template, unknown organisation)."""


@dataclass
class Segment:
    organisation: str | None = None
    language: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"organisation": self.organisation, "language": self.language}


def create(session: Session, template: str, segment: Segment, actor: str) -> BulkMessage:
    """A new bulk message (its recipients come with :func:`add_recipients`)."""
    found = templates.get(session, template)
    if found is None:
        raise BulkInvalid(f"No template '{template}'.")
    if found.essential:
        raise BulkInvalid(
            f"The template '{template}' is essential: bulk messages honour consent, so only "
            "templates marked non-essential may be sent in bulk."
        )
    if segment.organisation and _organisation_id(session, segment.organisation) is None:
        raise BulkInvalid(f"No organisation '{segment.organisation}'.")
    bulk = BulkMessage(template=template, segment=segment.as_json(), created_by=actor)
    session.add(bulk)
    session.flush()
    return bulk


def _organisation_id(session: Session, name: str) -> int | None:
    return session.scalar(select(Organisation.id).where(Organisation.name == name))


def consenting(session: Session, segment: dict[str, Any]) -> list[int]:
    """The contacts of a segment who may get non-essential mail now."""
    query = select(Contact.id).where(
        Contact.non_essential_mail.is_(True),
        Contact.email.is_not(None),
        Contact.bounced_at.is_(None),
    )
    if segment.get("organisation"):
        query = query.where(
            Contact.organisation_id == _organisation_id(session, segment["organisation"])
        )
    if segment.get("language"):
        query = query.where(Contact.language == segment["language"])
    return list(session.scalars(query.order_by(Contact.id)))


def add_recipients(session: Session, bulk_id: int) -> int:
    """A row per consenting contact of the segment (again: nothing twice); how many now."""
    bulk = session.get(BulkMessage, bulk_id)
    if bulk is None:
        return 0
    for contact_id in consenting(session, bulk.segment):
        upsert(
            session,
            BulkRecipient,
            {"bulk_id": bulk_id, "contact_id": contact_id, "status": "pending", "detail": ""},
            on=("bulk_id", "contact_id"),
        )
    return len(
        session.scalars(select(BulkRecipient.id).where(BulkRecipient.bulk_id == bulk_id)).all()
    )


def pending(session: Session, bulk_id: int, limit: int = BATCH) -> list[int]:
    return list(
        session.scalars(
            select(BulkRecipient.id)
            .where(BulkRecipient.bulk_id == bulk_id, BulkRecipient.status == "pending")
            .order_by(BulkRecipient.id)
            .limit(limit)
        )
    )
