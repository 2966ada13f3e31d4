"""Calls: starting one at most once per key, what the PBX's events change, and the lists the
desk shows (a ticket's calls, an agent's ringing phone, missed calls).

A call's row is its outbox record. ``start_call`` claims the key (status ``new``), marks it
``originating`` just before anything reaches the PBX and ``dialing`` once the PBX took it.
A retry that finds ``originating`` cannot know whether the PBX got the first request, so it
records ``unknown`` and dials nothing: a call is never started twice (R16).
"""

from __future__ import annotations

import logging
import urllib.error
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.contracts.calls import StartCallInput, StartCallResult
from tempodesk.core.db import transaction
from tempodesk.core.models import CommRecord, Contact, Message, User, utcnow
from tempodesk.core.settings import Settings
from tempodesk.people.addresses import normalize_phone
from tempodesk.telephony import ami, cti, pbx
from tempodesk.telephony.events import CallEvent

log = logging.getLogger(__name__)

FINAL = ("ended", "not_connected", "missed", "failed", "unknown")
LIVE = ("new", "originating", "dialing", "ringing", "answered")
POP_MINUTES = 5  # a ringing call older than this is not popped up any more


def agent_by_extension(session: Session, extension: str) -> User | None:
    extension = extension.strip()
    if not extension:
        return None
    return session.scalar(select(User).where(User.extension == extension, User.is_active))


def contact_by_number(session: Session, number: str) -> Contact | None:
    """The contact with this phone number (E.164 on both sides); the oldest if several."""
    e164 = normalize_phone(number)
    if not e164:
        return None
    return session.scalars(
        select(Contact).where(Contact.phone == e164).order_by(Contact.id)
    ).first()


# Starting a call


def start_call(
    sessions: sessionmaker[Session], settings: Settings, request: StartCallInput
) -> StartCallResult:
    """Place the call ``request.call_key`` names, unless it was placed (or may have been)."""
    claimed = _claim(sessions, request)
    if isinstance(claimed, StartCallResult):
        return claimed
    record_id, extension, number = claimed

    def before_send() -> None:
        _set_status(sessions, record_id, "originating", only_from=("new",))

    try:
        provider = pbx.dial(
            settings,
            call_key=request.call_key,
            extension=extension,
            number=number,
            before_send=before_send,
        )
    except (pbx.NoPbx, cti.CtiRefused, ami.AmiError, urllib.error.HTTPError) as exc:
        _set_status(sessions, record_id, "failed", detail=str(exc))  # refused: for good
        return StartCallResult("failed", record_id, str(exc))
    except (OSError, TimeoutError, ConnectionError) as exc:
        with transaction(sessions) as session:
            record = session.get(CommRecord, record_id)
            sent = record is not None and record.status != "new"
        if not sent:
            raise  # nothing reached the PBX: the activity's retry tries again
        detail = f"The PBX did not confirm the call ({exc}); it may have rung."
        _set_status(sessions, record_id, "unknown", only_from=("originating",), detail=detail)
        return StartCallResult("unknown", record_id, detail)
    with transaction(sessions) as session:
        session.execute(
            update(CommRecord)
            .where(CommRecord.id == record_id, CommRecord.status == "originating")
            .values(status="dialing", provider=provider)
        )
    return StartCallResult("started", record_id)


def _claim(
    sessions: sessionmaker[Session], request: StartCallInput
) -> tuple[int, str, str] | StartCallResult:
    """The call's row (created now, or left ``new`` by a try that sent nothing) with the
    extension and number to dial; or the answer when there is nothing to dial."""
    try:
        with transaction(sessions) as session:
            record = session.scalar(
                select(CommRecord).where(CommRecord.call_key == request.call_key)
            )
            if record is None:
                record = _new_call(session, request)
            elif record.status == "originating":
                record.status = "unknown"
                record.detail = "An earlier try may have reached the PBX; not dialled again."
                return StartCallResult("unknown", record.id, record.detail)
            elif record.status != "new":
                return StartCallResult("already", record.id, record.status)
            session.flush()
            if not record.extension or not record.number:
                record.status = "failed"
                record.detail = (
                    "The agent has no phone extension."
                    if not record.extension
                    else "The customer has no phone number."
                )
                return StartCallResult("failed", record.id, record.detail)
            return record.id, record.extension, record.number
    except IntegrityError:  # the same key claimed at the same moment: that one dials
        return StartCallResult("already", 0, "claimed concurrently")


def _new_call(session: Session, request: StartCallInput) -> CommRecord:
    user = session.scalar(select(User).where(User.username == request.agent))
    contact = session.get(Contact, request.contact_id) if request.contact_id else None
    number = normalize_phone(request.number or (contact.phone if contact else "") or "")
    record = CommRecord(
        kind="call",
        direction="out",
        call_key=request.call_key,
        contact_id=contact.id if contact else None,
        ticket_number=request.ticket_number or None,
        agent=request.agent or None,
        extension=(user.extension if user else "") or "",
        number=number,
        status="new",
        created_by=request.agent,
        subject="Call",
    )
    session.add(record)
    return record


def _set_status(
    sessions: sessionmaker[Session],
    record_id: int,
    status: str,
    *,
    only_from: tuple[str, ...] = LIVE,
    detail: str = "",
) -> None:
    values: dict[str, object] = {"status": status}
    if detail:
        values["detail"] = detail[:255]
    if status in FINAL:
        values["ended_at"] = utcnow()
    with transaction(sessions) as session:
        session.execute(
            update(CommRecord)
            .where(CommRecord.id == record_id, CommRecord.status.in_(only_from))
            .values(**values)
        )


# What the PBX tells us


def apply_event(session: Session, event: CallEvent, provider: str) -> CommRecord | None:
    """Move the call ``event`` is about; a call that rings one of our agents' extensions and
    is not ours yet is an incoming call (its caller matched to a contact)."""
    record = session.scalar(select(CommRecord).where(CommRecord.call_key == event.call_id))
    if record is None:
        return _incoming(session, event, provider)
    if record.status in FINAL:
        return record  # a replayed or late event changes nothing
    now = utcnow()
    if event.kind == "ringing" and record.status in ("new", "originating", "dialing"):
        record.status = "ringing"
    elif event.kind == "answered":
        record.status = "answered"
        record.answered_at = record.answered_at or now
    elif event.kind in ("hungup", "failed"):
        if record.answered_at is not None:
            record.status = "ended"
        else:
            record.status = "missed" if record.direction == "in" else "not_connected"
        record.ended_at = now
        record.detail = (event.detail or record.detail)[:255]
    return record


def _incoming(session: Session, event: CallEvent, provider: str) -> CommRecord | None:
    if event.kind != "ringing" or not event.extension or not event.call_id:
        return None
    agent = agent_by_extension(session, event.extension)
    if agent is None:
        return None  # not one of our agents' phones
    number = normalize_phone(event.caller)
    contact = contact_by_number(session, number)
    record = CommRecord(
        kind="call",
        direction="in",
        call_key=event.call_id[:150],
        provider=provider,
        agent=agent.username,
        extension=event.extension[:32],
        number=number or event.caller[:32],
        contact_id=contact.id if contact else None,
        status="ringing",
        created_by=provider,
        subject="Incoming call",
    )
    session.add(record)
    session.flush()
    return record


def apply_events(sessions: sessionmaker[Session], event: CallEvent, provider: str) -> None:
    """``apply_event`` in its own transaction (the AMI monitor's and the webhook's door)."""
    try:
        with transaction(sessions) as session:
            apply_event(session, event, provider)
    except IntegrityError:  # the same incoming call recorded at the same moment
        log.info("call %s recorded concurrently", event.call_id)


# What the desk reads


def calls_of_ticket(session: Session, ticket_number: str) -> list[CommRecord]:
    return list(
        session.scalars(
            select(CommRecord)
            .where(CommRecord.ticket_number == ticket_number)
            .order_by(CommRecord.at, CommRecord.id)
        )
    )


def ringing_for(session: Session, username: str) -> list[CommRecord]:
    """The incoming calls ringing (or just answered) at this agent's extension that are on
    no ticket yet."""
    since = utcnow() - timedelta(minutes=POP_MINUTES)
    return list(
        session.scalars(
            select(CommRecord)
            .where(
                CommRecord.agent == username,
                CommRecord.direction == "in",
                CommRecord.status.in_(("ringing", "answered")),
                CommRecord.at >= since,
                CommRecord.ticket_number.is_(None),
            )
            .order_by(CommRecord.at.desc())
            .limit(3)
        )
    )


def missed_calls(session: Session, limit: int = 200) -> list[CommRecord]:
    return list(
        session.scalars(
            select(CommRecord)
            .where(CommRecord.direction == "in", CommRecord.status == "missed")
            .order_by(CommRecord.at.desc())
            .limit(limit)
        )
    )


def note_outcome(
    session: Session, ticket_number: str, seq: int, outcome: str, message_id: int | None
) -> None:
    """The agent recorded (ticket event ``seq``) how the ticket's latest call went: it goes
    on the call's record, so on the contact too. Called by the ticket's projection in its
    transaction; a retried projection finds the event noted already."""
    calls = CommRecord.ticket_number == ticket_number, CommRecord.kind == "call"
    if session.scalar(select(CommRecord.id).where(*calls, CommRecord.outcome_seq == seq)):
        return
    record = session.scalars(
        select(CommRecord)
        .where(*calls, CommRecord.outcome_seq.is_(None))
        .order_by(CommRecord.id.desc())
    ).first()
    if record is None:
        return
    notes = session.get(Message, message_id) if message_id else None
    record.outcome, record.outcome_seq = outcome, seq
    record.notes = notes.body if notes is not None else ""
