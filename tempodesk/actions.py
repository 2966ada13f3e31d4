"""An agent presses an action button: check, store the bodies, ask the workflow.

The same path serves the desk and the API. The checks here spare the agent a round trip and
keep unknown agents or groups out; the workflow's Update validator decides.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from statemachines import ActionSpec, FieldErrors, actions_for, clean_fields
from tempodesk import processes, queries
from tempodesk.client import ActionRejected, TemporalFacade, TicketNotFound
from tempodesk.contracts import Actor, CustomerMessageInput, PerformActionInput, PerformActionResult
from tempodesk.db import transaction
from tempodesk.models import Group, Message, Ticket, User
from tempodesk.settings import Settings


class Actions:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], engine: TemporalFacade):
        self.settings = settings
        self.sessions = sessions
        self.engine = engine

    def available(self, session: Session, ticket: Ticket, actor: Actor) -> list[ActionSpec]:
        """The buttons this actor gets on this ticket now."""
        definition = processes.definition(session, ticket.process_name, ticket.process_version)
        if definition.state(ticket.state).final:
            return []
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
    ) -> PerformActionResult:
        """Perform an action; raises TicketNotFound, ActionRejected or FieldErrors."""
        with self.sessions() as session:
            ticket = queries.find_ticket(session, number, actor)
            if ticket is None:
                raise TicketNotFound(number)
            definition = processes.definition(session, ticket.process_name, ticket.process_version)
            action = definition.action(action_id)
            if action is None or action not in definition.actions_in(ticket.state):
                raise ActionRejected(
                    "not_available",
                    f"The action '{action_id}' is not available while the ticket is "
                    f"'{ticket.state_label}'.",
                )
            if action not in self.available(session, ticket, actor):
                raise ActionRejected(
                    "forbidden",
                    f"You may not '{action.label}' tickets in state '{ticket.state_label}'.",
                )
            clean = clean_fields(action, values, claimed=False)
            self._check_references(session, action, clean)
        claimed = self._store_bodies(number, action, clean, actor)
        return self.engine.perform_action(
            number,
            PerformActionInput(
                action=action.id, actor=actor, fields=claimed, expected_state=expected_state
            ),
            request_id=request_id,
        )

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
        self, number: str, action: ActionSpec, values: dict[str, Any], actor: Actor
    ) -> dict[str, Any]:
        """Store long texts as messages (claim checks) and put their ids in their place."""
        claimed = dict(values)
        longtexts = [f for f in action.fields if f.type == "longtext" and values.get(f.id)]
        if not longtexts:
            return claimed
        with transaction(self.sessions) as session:
            subject = session.scalar(select(Ticket.subject).where(Ticket.number == number)) or ""
            for spec in longtexts:
                message = Message(
                    ticket_number=number,
                    author=actor.username,
                    sender_role="agent",
                    subject=subject,
                    body=values[spec.id].replace("\r\n", "\n"),
                )
                session.add(message)
                session.flush()
                claimed[spec.id] = message.id
        return claimed

    def customer_message(
        self, number: str, body: str, *, author: str, channel: str, idempotency_key: str = ""
    ) -> int:
        """Store a message from the customer and tell the ticket's workflow."""
        if not body.strip():
            raise FieldErrors({"body": "Enter a message."})
        if len(body) > self.settings.max_message_chars:
            raise FieldErrors({"body": f"At most {self.settings.max_message_chars} characters."})
        with transaction(self.sessions) as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket is None:
                raise TicketNotFound(number)
            existing = (
                session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
                if idempotency_key
                else None
            )
            if existing is not None and existing.ticket_number != number:
                raise FieldErrors({"idempotency_key": "This key was used for another ticket."})
            if existing is not None:
                message = existing
            else:
                message = Message(
                    ticket_number=number,
                    idempotency_key=idempotency_key or None,
                    author=author,
                    sender_role="customer",
                    channel=channel,
                    subject=ticket.subject,
                    body=body.replace("\r\n", "\n"),
                )
                session.add(message)
                session.flush()
        self.engine.customer_message(
            number, CustomerMessageInput(message_id=message.id, author=author, channel=channel)
        )
        return message.id
