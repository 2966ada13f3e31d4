"""An agent presses an action button: check, store the bodies, ask the workflow.

The same path serves the desk and the API. The checks here spare the agent a round trip and
keep unknown agents or groups out; the workflow's Update validator decides.

Files attached to the action's text are checked here before anything is written and stored
on its claim check. A successful action deletes the agent's draft of its form (the drafts
are the composer's: ``tempodesk.tickets.composer``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from statemachines import (
    ActionSpec,
    FieldErrors,
    Rejection,
    actions_for,
    check_action,
    clean_fields,
)
from tempodesk.contracts import (
    MAX_TIME_SPENT,
    Actor,
    CustomerMessageInput,
    PerformActionInput,
    PerformActionResult,
)
from tempodesk.core.db import transaction
from tempodesk.core.files import safe_content_type, safe_filename
from tempodesk.core.models import Group, Message, Ticket, User
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import ActionRejected, TemporalFacade, TicketNotFound
from tempodesk.tickets import processes, queries
from tempodesk.tickets.composer import check_sms_reply, discard_draft, has_draft
from tempodesk.tickets.intake import KEY_REUSED, AttachmentData, attach_files

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 20  # files per action


class AttachmentTooLarge(ValueError):
    """A file (or all of them) is over the limit; nothing was stored."""


class Actions:
    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], temporal: TemporalFacade
    ):
        self.settings = settings
        self.sessions = sessions
        self.temporal = temporal

    def available(self, session: Session, ticket: Ticket, actor: Actor) -> list[ActionSpec]:
        """The buttons this actor gets on this ticket now."""
        definition = processes.definition(session, ticket.process_name, ticket.process_version)
        if ticket.merged_into or definition.state(ticket.state).final:
            return []  # merged: in no state of its process, it takes no action
        return actions_for(definition, ticket.state, actor, ticket.assignee)

    def perform(
        self,
        actor: Actor,
        number: str,
        action_id: str,
        values: dict[str, Any],
        *,
        expected_state: str | None = None,
        request_id: str | None = None,
        attachments: list[AttachmentData] | None = None,
        sms_to: str = "",
        time_spent: int = 0,
        checks: Session | None = None,
    ) -> PerformActionResult:
        """Perform an action; raises TicketNotFound, ActionRejected, FieldErrors or
        AttachmentTooLarge. Files go with the action's (first) long text; a successful action
        deletes the actor's draft of it. With ``sms_to`` (the customer's mobile number, from
        ``composer.sms_number``) the reply goes as an SMS. ``checks`` is the caller's session
        (the request's) to check in: closed before the Update, as a session of our own would
        be, so no connection is held while the workflow works and none is taken twice."""
        files = self.check_attachments(attachments or [])
        if not 0 <= time_spent <= MAX_TIME_SPENT:
            raise FieldErrors({"time_spent": f"From 0 to {MAX_TIME_SPENT} minutes."})
        with checks if checks is not None else self.sessions() as session:
            ticket = queries.find_ticket(session, number, actor)
            if ticket is None:
                raise TicketNotFound(number)
            action = _allowed(session, ticket, action_id, actor, expected_state)
            clean = clean_fields(action, values, claimed=False)
            self._check_references(session, action, clean)
            if files and not any(f.type == "longtext" and clean.get(f.id) for f in action.fields):
                raise FieldErrors({_files_field(action): "Write a text to go with the files."})
            if sms_to:
                check_sms_reply(action, clean)
                if files:
                    raise FieldErrors({_files_field(action): "An SMS carries no files."})
            # Read here, in the session the checks hold anyway: most actions have no draft,
            # and then no transaction follows the Update to delete one.
            drafted = has_draft(session, actor.username, number, action.id)
        claimed = self._store_bodies(number, action, clean, actor, files)
        result = self.temporal.perform_action(
            number,
            PerformActionInput(
                action=action.id,
                actor=actor,
                fields=claimed,
                expected_state=expected_state,
                sms_to=sms_to,
                time_spent=time_spent,
            ),
            request_id=request_id,
        )
        if drafted:
            self._discard_draft(actor.username, number, action.id)
        return result

    def _discard_draft(self, username: str, number: str, action_id: str) -> None:
        try:
            with transaction(self.sessions) as session:
                discard_draft(session, username, number, action_id)
        except SQLAlchemyError:  # the action is done; a stale draft must not hide that
            log.warning("could not delete %s's draft of %s on %s", username, action_id, number)

    def check_attachments(self, files: list[AttachmentData]) -> list[AttachmentData]:
        """Sizes and count checked, names made safe, never inline: before anything is stored."""
        limit = self.settings.max_attachment_bytes
        if len(files) > MAX_ATTACHMENTS:
            raise AttachmentTooLarge(f"Attach at most {MAX_ATTACHMENTS} files.")
        for part in files:
            if len(part.data) > limit:
                raise AttachmentTooLarge(
                    f"'{safe_filename(part.filename)}' is larger than {_mb(limit)}."
                )
        if sum(len(part.data) for part in files) > self.settings.max_upload_bytes:
            raise AttachmentTooLarge(
                f"All files together may be at most {_mb(self.settings.max_upload_bytes)}."
            )
        return [
            AttachmentData(
                filename=safe_filename(part.filename),
                content_type=safe_content_type(part.content_type),
                data=part.data,
                inline=False,
            )
            for part in files
            if part.data or part.filename
        ]

    def _check_references(
        self, session: Session, action: ActionSpec, values: dict[str, Any]
    ) -> None:
        errors: dict[str, str] = {}
        for spec in action.fields:
            value = values.get(spec.id)
            if value is None:
                continue
            kind, name = spec.type, value
            if spec.type == "recipient":
                prefix, _, name = value.partition(":")
                kind = "agent" if prefix == "user" else "group"
            if (
                kind == "agent"
                and session.scalar(
                    select(User.id).where(User.username == name).where(User.is_active.is_(True))
                )
                is None
            ):
                errors[spec.id] = f"There is no active agent '{name}'."
            elif (
                kind == "group"
                and session.scalar(select(Group.id).where(Group.name == name)) is None
            ):
                errors[spec.id] = f"There is no group '{name}'."
        if errors:
            raise FieldErrors(errors)

    def _store_bodies(
        self,
        number: str,
        action: ActionSpec,
        values: dict[str, Any],
        actor: Actor,
        files: list[AttachmentData] | None = None,
    ) -> dict[str, Any]:
        """Store long texts as messages (claim checks) and put their ids in their place.

        Files become attachments of the first stored text, in the same transaction: the mail
        activity sends them with it, the timeline links them.
        """
        claimed = dict(values)
        longtexts = [f for f in action.fields if f.type == "longtext" and values.get(f.id)]
        if not longtexts:
            return claimed
        with transaction(self.sessions) as session:
            subject = session.scalar(select(Ticket.subject).where(Ticket.number == number)) or ""
            for index, spec in enumerate(longtexts):
                message = Message(
                    ticket_number=number,
                    author=actor.username,
                    sender_role="agent",
                    subject=subject,
                    body=values[spec.id].replace("\r\n", "\n"),
                )
                if index == 0:
                    attach_files(message, files or [])
                session.add(message)
                session.flush()
                claimed[spec.id] = message.id
        return claimed

    def customer_action(
        self,
        number: str,
        action_id: str,
        *,
        author: str,
        contact_id: int | None,
        expected_state: str | None,
    ) -> PerformActionResult:
        """A customer presses an action the process marks for customers, on their own request
        (their contact, or their address); raises TicketNotFound or ActionRejected. The
        workflow's validator applies the same rule (``check_action``, kind "customer")."""
        actor = Actor(username=author, kind="customer", contact_id=contact_id)
        with self.sessions() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket is None:
                raise TicketNotFound(number)
            action = _allowed(session, ticket, action_id, actor, expected_state)
        return self.temporal.perform_action(
            number,
            PerformActionInput(
                action=action.id, actor=actor, fields={}, expected_state=expected_state
            ),
        )

    def customer_message(
        self,
        number: str,
        body: str,
        *,
        author: str,
        channel: str,
        idempotency_key: str = "",
        fingerprint: str = "",
        files: list[AttachmentData] | None = None,
    ) -> int:
        """Store a message from the customer (with ``files``, checked by
        ``check_attachments``) and tell the ticket's workflow."""
        if not body.strip():
            raise FieldErrors({"body": "Enter a message."})
        if len(body) > self.settings.max_message_chars:
            raise FieldErrors({"body": f"At most {self.settings.max_message_chars} characters."})
        with transaction(self.sessions) as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            # Closed takes no more messages, whether its run has ended or still sends its
            # last mail (a mailbox's reply follows the mailbox's policy instead).
            if ticket is None or ticket.state_category == "closed":
                raise TicketNotFound(number)
            existing = (
                session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
                if idempotency_key
                else None
            )
            if existing is not None and (
                existing.ticket_number != number
                or (fingerprint and existing.request_fingerprint not in (None, fingerprint))
            ):
                raise FieldErrors({"idempotency_key": KEY_REUSED})
            if existing is not None:
                message = existing
            else:
                message = Message(
                    ticket_number=number,
                    idempotency_key=idempotency_key or None,
                    request_fingerprint=fingerprint or None,
                    author=author,
                    sender_role="customer",
                    channel=channel,
                    subject=ticket.subject,
                    body=body.replace("\r\n", "\n"),
                )
                attach_files(message, files or [])
                session.add(message)
                session.flush()
        self.temporal.customer_message(
            number, CustomerMessageInput(message_id=message.id, author=author, channel=channel)
        )
        return message.id


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _files_field(action: ActionSpec) -> str:
    """The field an error about attached files is shown at: the first long text."""
    return next((f.id for f in action.fields if f.type == "longtext"), "attachments")


def _allowed(
    session: Session, ticket: Ticket, action_id: str, actor: Actor, expected_state: str | None
) -> ActionSpec:
    """The action, if this actor may press it on the ticket now (``check_action``, the rule
    the workflow's validator applies again); else ActionRejected."""
    definition = processes.definition(session, ticket.process_name, ticket.process_version)
    action = check_action(
        definition,
        ticket.state,
        action_id,
        actor,
        assignee=ticket.assignee,
        customer_email=ticket.customer_email,
        expected_state=expected_state,
        contact_id=ticket.contact_id,
    )
    if isinstance(action, Rejection):
        raise ActionRejected(action)
    return action
