"""Inbound mail, from raw bytes to a ticket, a follow-up, or a recorded reason why not.

The same path serves the IMAP poller (``MailboxWorkflow``), the inbound MIME endpoint and an
agent's .eml import:

1. Store the raw bytes under a dedupe key that is unique per mailbox (a PostgreSQL/SQLite
   unique constraint; ``parsing.parsed.dedupe_key``). The same message twice is one row.
2. Parse behind size and shape guards and classify with the named filters of
   ``tempodesk.mail``; a message that cannot be processed is *quarantined* with its reason,
   never lost and never blocking the mailbox.
3. Route (``tempodesk.mail.routing``): store the follow-up's message or accept the new
   ticket through intake, and record the outcome. Every step is idempotent, so a crash
   anywhere is repaired by processing the same bytes again, which gives the first outcome
   and the same route.
4. Deliver the route to the ticket's workflow: the mailbox workflow does it in workflow code
   (``take`` returns the route); mail that came through the web is delivered here, through
   the facade (``receive``). The caller acknowledges the mail (IMAP flag, HTTP 202) only
   after that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.contracts import (
    SIGNAL_CUSTOMER_MESSAGE,
    CustomerMessageInput,
    CustomerRef,
    MailRoute,
    TicketStartInput,
)
from tempodesk.core.db import fit, transaction, upsert
from tempodesk.core.ids import inbound_key
from tempodesk.core.models import InboundMessage, Message, Ticket, utcnow
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import AsyncFacade, TemporalFacade, TicketNotFound
from tempodesk.mail import mailboxes
from tempodesk.mail.extracts import body_text, extras_of
from tempodesk.mail.parsing.parsed import MailRejected, ParsedMail, content_digest, dedupe_key
from tempodesk.mail.parsing.parser import parse
from tempodesk.mail.routing import InboundOutcome, Routed, Router, record_outcome
from tempodesk.people.addresses import is_valid_email, normalize_email
from tempodesk.routing import triggers
from tempodesk.tickets import pending, processes, queries
from tempodesk.tickets.intake import (
    AttachmentData,
    EmailExtras,
    Intake,
    IntakeInvalid,
    NewTicket,
)

log = logging.getLogger(__name__)

FINAL = ("ticket", "follow_up", "ignored", "quarantined")
# Attempts at routing one message before it is quarantined with its error (R13: N <= 3).
MAX_ATTEMPTS = 3


class MailNotRouted(Exception):
    """Routing one stored message failed; it is tried again at the next poll, and
    quarantined at its ``MAX_ATTEMPTS``-th attempt. The mail behind it goes on meanwhile."""

    def __init__(self, inbound_id: int, attempts: int, reason: str):
        super().__init__(f"attempt {attempts} of {MAX_ATTEMPTS}: {reason}")
        self.inbound_id = inbound_id
        self.attempts = attempts
        self.reason = reason


def describe(exc: BaseException) -> str:
    """An error in one line for an admin: its class and first line; a database error's own
    (its SQL and parameters, i.e. customer data, stay in the log)."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {lines[0][:300] if lines else ''}"


@dataclass
class Staged:
    """A message stored and parsed, to be routed (``InboundService.route_staged``)."""

    inbound_id: int
    attempts: int
    config: mailboxes.MailboxConfig
    parsed: ParsedMail


class InboundService:
    """Takes mail in. ``temporal`` is the facade of a process that delivers routes itself
    (web, CLI); the worker's activities take mail without one (its workflow delivers)."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        intake: Intake,
        temporal: TemporalFacade | None = None,
    ):
        self.settings = settings
        self.sessions = sessions
        self.temporal = temporal
        self.router = Router(settings, sessions, intake)

    def receive(
        self, mailbox: str, raw: bytes, *, source: str = "api", into_ticket: str | None = None
    ) -> InboundOutcome:
        """Take one raw message and deliver its route now (web, CLI). Safe to call again with
        the same bytes: it then returns the first outcome. Raises UnknownMailbox."""
        routed = self.take(mailbox, raw, source=source, into_ticket=into_ticket)
        self.deliver_now(routed.route)
        return routed.outcome

    def take(
        self,
        mailbox: str,
        raw: bytes,
        *,
        source: str = "api",
        uid: int | None = None,
        uidvalidity: int | None = None,
        into_ticket: str | None = None,
    ) -> Routed:
        """Store, parse, route and record one raw message; what its ticket must be told is the
        route (a repeat of the same bytes gives the first outcome and its route again)."""
        staged = self.stage(mailbox, raw, source=source, uid=uid, uidvalidity=uidvalidity)
        if isinstance(staged, Routed):
            return staged
        return self.route_staged(staged, into_ticket)

    def stage(
        self,
        mailbox: str,
        raw: bytes,
        *,
        source: str = "api",
        uid: int | None = None,
        uidvalidity: int | None = None,
        config: mailboxes.MailboxConfig | None = None,
    ) -> Routed | Staged:
        """The first half of ``take``: the raw bytes stored (durable) and parsed. What needs
        no routing (a repeat, a quarantine) is finished here; the rest is ``Staged`` for
        ``route_staged``, which a poll runs beside other mail. ``config``: the mailbox's, if
        the caller read it already (a poll reads it once a batch)."""
        config = config or self.config(mailbox)
        if len(raw) > config.max_bytes:
            key = "raw:" + content_digest(raw)
            row = self._store(config.name, key, raw, None, source, uid, uidvalidity)
            if row.status in FINAL:
                return self._replay(row)
            reason = f"too large: {len(raw)} bytes, the limit is {config.max_bytes}"
            return Routed(record_outcome(self.sessions, row.id, "quarantined", reason=reason))
        parsed, problem = _parse(raw, config.max_bytes, mailbox)
        try:
            row = self._store(
                config.name, dedupe_key(raw, parsed), raw, parsed, source, uid, uidvalidity
            )
        except DataError as exc:
            # A value the database refuses (every field is fitted, so this is a bug): keep
            # the raw bytes under their digest and quarantine them rather than block the box.
            log.exception("storing a message for %s failed", mailbox)
            key = "raw:" + content_digest(raw)
            row = self._store(config.name, key, raw, None, source, uid, uidvalidity)
            parsed, problem = None, f"cannot be stored: {describe(exc)}"
        if row.status in FINAL:
            return self._replay(row)
        if parsed is None:
            return Routed(record_outcome(self.sessions, row.id, "quarantined", reason=problem))
        return Staged(row.id, row.attempts, config, parsed)

    def config(self, mailbox: str) -> mailboxes.MailboxConfig:
        """The mailbox's intake settings (raises UnknownMailbox)."""
        with self.sessions() as session:
            return mailboxes.config(session, mailbox, self.settings)

    def route_staged(
        self, staged: Staged, into_ticket: str | None = None, *, again: bool = False
    ) -> Routed:
        """The second half of ``take``: route a stored message and record its outcome.
        ``again``: the same row was staged twice (the same mail twice in one batch); if the
        first has an outcome by now, this one replays it."""
        if again:
            with self.sessions() as session:
                row = session.get(InboundMessage, staged.inbound_id)
                if row is not None and row.status in FINAL:
                    return self._replay(row)
        return self._route(
            staged.inbound_id, staged.attempts, staged.config, staged.parsed, into_ticket
        )

    def _route(
        self,
        inbound_id: int,
        attempts: int,
        config: mailboxes.MailboxConfig,
        parsed: ParsedMail,
        into_ticket: str | None,
    ) -> Routed:
        """Route a stored message. What cannot become a ticket is quarantined at once; any
        other error raises ``MailNotRouted`` (the caller moves on and tries again later) until
        the message's ``MAX_ATTEMPTS``-th attempt, which quarantines it with the error."""
        try:
            return self.router.route(inbound_id, config, parsed, into_ticket)
        except (IntakeInvalid, ValueError) as exc:
            reason = f"cannot become a ticket: {exc}"
            return Routed(record_outcome(self.sessions, inbound_id, "quarantined", reason=reason))
        except Exception as exc:
            log.exception("routing inbound message %s failed (attempt %s)", inbound_id, attempts)
            if attempts < MAX_ATTEMPTS:
                raise MailNotRouted(inbound_id, attempts, describe(exc)) from exc
            reason = f"routing failed {attempts} attempts, the last with {describe(exc)}"
            return Routed(record_outcome(self.sessions, inbound_id, "quarantined", reason=reason))

    def unrouted(self, mailbox: str, *, limit: int) -> list[int]:
        """IMAP mail of this mailbox stored but not routed yet (routing failed; it is tried
        again until its last attempt), oldest first."""
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(InboundMessage.id)
                    .where(InboundMessage.mailbox == mailbox)
                    .where(InboundMessage.source == "imap")
                    .where(InboundMessage.status == "stored")
                    .order_by(InboundMessage.id)
                    .limit(limit)
                )
            )

    def stored(self, inbound_id: int) -> tuple[bytes, int | None, int | None] | None:
        """A stored message's raw bytes, IMAP UID and UIDVALIDITY (None: no such message)."""
        with self.sessions() as session:
            row = session.get(InboundMessage, inbound_id)
            return None if row is None else (row.raw, row.imap_uid, row.imap_uidvalidity)

    def reprocess(self, inbound_id: int) -> InboundOutcome:
        """Run a stored (e.g. quarantined) message through the pipeline again (an admin). An
        error quarantines it again at once, with the error as its reason."""
        with transaction(self.sessions) as session:
            row = session.get(InboundMessage, inbound_id)
            if row is None:
                raise LookupError(inbound_id)
            row.status, row.reason = "stored", ""
            mailbox, raw = row.mailbox, row.raw
        with self.sessions() as session:
            config = mailboxes.config(session, mailbox, self.settings)
        parsed, problem = _parse(raw, max(config.max_bytes, len(raw)), mailbox)
        if parsed is None:
            return record_outcome(self.sessions, inbound_id, "quarantined", reason=problem)
        routed = self._route(inbound_id, MAX_ATTEMPTS, config, parsed, None)
        self.deliver_now(routed.route)
        return routed.outcome

    def release(self, inbound_id: int, author: str) -> InboundOutcome:
        """An admin's decision: make a ticket of a quarantined or ignored message anyway.

        What can be read becomes the ticket; the raw message is attached to it either way.
        """
        with self.sessions() as session:
            row = session.get(InboundMessage, inbound_id)
            if row is None:
                raise LookupError(inbound_id)
            if row.status in ("ticket", "follow_up") and row.ticket_number:
                return _outcome(row, duplicate=True)
            mailbox, raw = row.mailbox, row.raw
            config = mailboxes.config(session, mailbox, self.settings)
        request = _released(raw, config, inbound_id, author)
        accepted = self.router.intake.accept(request)
        routed = Routed(
            record_outcome(
                self.sessions,
                inbound_id,
                "ticket",
                ticket=accepted.number,
                reason=f"released by {author}",
            ),
            MailRoute(accepted.number, start=accepted.start) if accepted.start else None,
        )
        self.deliver_now(routed.route)
        return routed.outcome

    def restart(self, number: str, message_id: int) -> TicketStartInput | None:
        """The run to start so that a ticket with no running workflow can take a message: a
        closed ticket's new run, restored from its projection and reopened; or the first run
        of a ticket accepted while Temporal was away and not started yet (its pending start).
        None: nothing to start (the message is on a timeline already, an auto-reply never
        reopens a ticket, or the ticket is unknown)."""
        with self.sessions() as session:
            message = session.get(Message, message_id)
            if message is None or message.attached:
                return None
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket is None:
                return pending.recall(session, number)
            if message.auto_reply:
                return None
            if ticket.merged_into:  # routed just before the merge: left for an agent to see
                log.warning("message %s reached %s after it was merged", message_id, number)
                return None
            pinned = processes.pin_version(session, ticket.process_name, ticket.process_version)
            start = TicketStartInput.reopening(pinned, queries.snapshot_of(ticket))
            start.triggers = triggers.active(session)  # a new run: today's triggers
            return start

    def redirect(self, number: str, message_id: int) -> MailRoute | None:
        """A follow-up that reached a closed ticket whose mailbox makes such mail a new
        ticket (``CustomerMessageInput.if_closed``): its mail accepted as a new ticket, and
        the route that starts it (without a start: started already). None: no such mail."""
        with self.sessions() as session:
            message = session.get(Message, message_id)
            row = session.get(InboundMessage, message.inbound_id or 0) if message else None
            if row is None:
                return None
            inbound_id, raw = row.id, row.raw
            config = mailboxes.config(session, row.mailbox, self.settings)
        try:
            parsed = parse(raw, max_bytes=max(config.max_bytes, len(raw)))
            routed = self.router.redirect(inbound_id, config, parsed, number)
        except (MailRejected, IntakeInvalid, ValueError) as exc:
            log.warning("could not make message %s a new ticket: %s", message_id, exc)
            return None  # it stays on the closed ticket
        return routed.route or MailRoute(routed.outcome.ticket or "")

    def deliver_now(self, route: MailRoute | None) -> None:
        """Deliver a route through this process's facade (the web's and the CLI's way)."""
        if route is None:
            return
        if self.temporal is None:
            raise RuntimeError("This process delivers no mail to tickets (it has no facade).")
        self.temporal.run(lambda temporal: deliver(temporal, route, self.restart))

    def _store(
        self,
        mailbox: str,
        key: str,
        raw: bytes,
        parsed: ParsedMail | None,
        source: str,
        uid: int | None,
        uidvalidity: int | None,
    ) -> InboundMessage:
        """The raw bytes, durable before anything else happens; the existing row on a repeat."""
        mail = parsed or ParsedMail()
        with transaction(self.sessions) as session:
            upsert(
                session,
                InboundMessage,
                {
                    "mailbox": mailbox,
                    "dedupe_key": key,
                    "source": source,
                    "rfc_message_id": fit(InboundMessage.rfc_message_id, mail.message_id),
                    "sender": fit(InboundMessage.sender, mail.from_address),
                    "subject": fit(InboundMessage.subject, mail.subject),
                    "raw": raw,
                    "size": len(raw),
                    "sha256": content_digest(raw),
                    "imap_uid": uid,
                    "imap_uidvalidity": uidvalidity,
                    "status": "stored",
                    "received_at": utcnow(),
                },
                on=["mailbox", "dedupe_key"],
            )
            row = session.scalar(
                select(InboundMessage)
                .where(InboundMessage.mailbox == mailbox)
                .where(InboundMessage.dedupe_key == key)
            )
            assert row is not None
            row.attempts += 1
            session.flush()
            session.expunge(row)
            return row

    def _replay(self, row: InboundMessage) -> Routed:
        """A message seen before: its first outcome, and its route again (delivering it twice
        is harmless: a start joins the ticket, a ticket ignores a message it has)."""
        outcome = _outcome(row, duplicate=True)
        if not row.ticket_number or row.status not in ("ticket", "follow_up"):
            return Routed(outcome)
        number = row.ticket_number
        with self.sessions() as session:
            if row.status == "ticket":
                start = pending.recall(session, number)
                return Routed(outcome, MailRoute(number, start=start) if start else None)
            message = session.get(Message, row.message_id) if row.message_id else None
            config = mailboxes.config(session, row.mailbox, self.settings)
        if message is None:
            return Routed(outcome)
        told = CustomerMessageInput(
            message_id=message.id,
            author=message.author,
            channel="email",
            rfc_message_id=message.smtp_message_id or "",
            auto_reply=message.auto_reply,
            if_closed=config.if_closed,
        )
        return Routed(outcome, MailRoute(number, message=told))


async def deliver(
    temporal: AsyncFacade,
    route: MailRoute,
    restart: Callable[[str, int], TicketStartInput | None],
) -> None:
    """Tell the ticket (from a client: the web, the CLI, a replayed legacy poll): start the
    new ticket, or signal the message; a ticket with no running workflow (closed, or not
    started yet) is started (``InboundService.restart``) with the message as its first
    signal."""
    if route.start is not None:
        await temporal.start_ticket(route.start)
        return
    message = route.message
    assert message is not None
    try:
        await temporal.signal_ticket(route.number, SIGNAL_CUSTOMER_MESSAGE, message)
    except TicketNotFound:
        start = await asyncio.to_thread(restart, route.number, message.message_id)
        if start is not None:
            await temporal.start_with_message(start, message)


def _parse(raw: bytes, max_bytes: int, mailbox: str) -> tuple[ParsedMail | None, str]:
    try:
        return parse(raw, max_bytes=max_bytes), ""
    except MailRejected as exc:
        return None, f"{exc.kind}: {exc.reason}"
    except Exception as exc:  # a parser bug must quarantine the mail, not block the box
        log.exception("parser failed on a message for %s", mailbox)
        return None, f"the parser failed: {type(exc).__name__}: {exc}"


def _released(
    raw: bytes, config: mailboxes.MailboxConfig, inbound_id: int, author: str
) -> NewTicket:
    """The new ticket an admin releases a stored message as, readable or not."""
    try:
        mail = parse(raw, max_bytes=max(config.max_bytes, len(raw)))
        sender, name, subject, body = (
            mail.from_address,
            mail.from_name,
            mail.subject,
            body_text(mail),
        )
        extras = extras_of(mail, config.name, inbound_id)
    except MailRejected as exc:
        sender, name, subject = "", "", "(a message that could not be read)"
        body = f"The message could not be read ({exc.reason}); see the attached original."
        extras = EmailExtras(mailbox=config.name, inbound_id=inbound_id)
    extras.attachments.append(AttachmentData("original.eml", "message/rfc822", raw))
    extras.create_contact = config.create_contacts
    if not is_valid_email(normalize_email(sender)):
        sender = f"unknown-sender-{inbound_id}@invalid.example"
    return NewTicket(
        subject=" ".join(subject.split())[:250] or "(no subject)",
        body=f"{body}\n\n[Released from quarantine by {author}.]",
        customer=CustomerRef(email=sender, name=name[:200]),
        channel="email",
        idempotency_key=inbound_key(inbound_id),
        email=extras,
    )


def _outcome(row: InboundMessage, duplicate: bool = False) -> InboundOutcome:
    return InboundOutcome(row.status, row.ticket_number, row.reason or None, row.id, duplicate)


__all__ = [
    "FINAL",
    "MAX_ATTEMPTS",
    "InboundOutcome",
    "InboundService",
    "MailNotRouted",
    "Routed",
    "deliver",
]
