"""The composer's side of an action form: what each long-text field does (reply, portal
reply, internal note) and the agent's drafts of the form.

A draft is the agent's own desk data (reference data, never a ticket): saved as they type,
deleted by the action that succeeds (``Actions.perform``) or by the "Discard draft" button.
Where a reply leaves from (mailbox address and signature) is mail's
(``tempodesk.mail.mailboxes.reply_sender``), asked by the web's composer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from statemachines import ActionSpec, FieldErrors
from tempodesk.core.models import Contact, Draft, Ticket, utcnow
from tempodesk.messaging.templates import SMS_MAX_CHARS
from tempodesk.people.addresses import e164, is_mobile

MAX_DRAFT_CHARS = 200_000  # all the values of one draft together


def field_roles(action: ActionSpec) -> dict[str, str]:
    """What each long-text field of an action becomes: "reply" (emailed to the customer),
    "portal" (shown to the customer in the portal) or "note" (only agents see it)."""
    roles: dict[str, str] = {}
    for effect in action.effects:
        if effect.type == "send_email":
            roles.setdefault(effect.arg("body_field"), "reply")
        elif effect.type == "portal_reply":
            roles.setdefault(effect.arg("body_field"), "portal")
        elif effect.type == "add_note":
            roles.setdefault(effect.arg("body_field"), "note")
        elif effect.type == "forward" and effect.arg("note_field"):
            roles.setdefault(effect.arg("note_field"), "note")
    return {k: v for k, v in roles.items() if k}


def sms_number(session: Session, ticket: Ticket, region: str) -> str:
    """The customer's mobile number in E.164 where their contact has one: a reply may go
    to it as an SMS (the composer offers it when an SMS gateway is configured)."""
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    number = e164(contact.phone, region) if contact is not None and contact.phone else ""
    return number if number and is_mobile(number) else ""


def check_sms_reply(action: ActionSpec, values: dict[str, Any]) -> None:
    """A reply sent as an SMS: it needs a reply field and fits ``SMS_MAX_CHARS``."""
    replies = [f for f, role in field_roles(action).items() if role == "reply"]
    if not replies:
        raise FieldErrors({"reply_via": "This action sends no reply."})
    for name in replies:
        if len(str(values.get(name) or "")) > SMS_MAX_CHARS:
            raise FieldErrors({name: f"An SMS may be at most {SMS_MAX_CHARS} characters."})


def drafts_for(session: Session, username: str, number: str) -> dict[str, dict[str, Any]]:
    """The agent's drafts on this ticket: action id -> the form's field values."""
    return {
        d.action: dict(d.fields or {})
        for d in session.scalars(
            select(Draft).where(Draft.username == username).where(Draft.ticket_number == number)
        )
    }


def clean_draft(action: ActionSpec, raw: Any) -> dict[str, Any]:
    """Only the action's own fields, as the form sends them (text, or lists of text)."""
    if not isinstance(raw, dict):
        raise FieldErrors({"fields": "Send the fields as an object."})
    fields: dict[str, Any] = {}
    for spec in action.fields:
        value = raw.get(spec.id)
        if isinstance(value, str) and value != "":
            fields[spec.id] = value.replace("\r\n", "\n")
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            fields[spec.id] = list(value)
    size = sum(len(v) if isinstance(v, str) else sum(map(len, v)) for v in fields.values())
    if size > MAX_DRAFT_CHARS:
        raise FieldErrors({"fields": f"A draft may be at most {MAX_DRAFT_CHARS} characters."})
    return fields


def save_draft(
    session: Session, username: str, number: str, action_id: str, fields: dict[str, Any]
) -> bool:
    """Keep what the agent typed; an empty form deletes the draft. True if one is kept."""
    draft = session.get(Draft, (username, number, action_id))
    if not fields:
        if draft is not None:
            session.delete(draft)
        return False
    if draft is None:
        draft = Draft(username=username, ticket_number=number, action=action_id)
        session.add(draft)
    draft.fields = fields
    draft.updated_at = utcnow()
    return True


def has_draft(session: Session, username: str, number: str, action_id: str) -> bool:
    """Whether the agent keeps a draft of this action's form on this ticket."""
    found = session.scalar(
        select(Draft.username)
        .where(Draft.username == username)
        .where(Draft.ticket_number == number)
        .where(Draft.action == action_id)
        .limit(1)
    )
    return found is not None


def discard_draft(session: Session, username: str, number: str, action_id: str) -> None:
    session.execute(
        delete(Draft)
        .where(Draft.username == username)
        .where(Draft.ticket_number == number)
        .where(Draft.action == action_id)
    )
