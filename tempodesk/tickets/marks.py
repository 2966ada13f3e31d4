"""The agent's desk around the ticket lists: the left panel, saved filters, presence, follows
and bulk actions.

The web's views parse a request and call these. Tickets are read only through
``tempodesk.tickets.lists`` and ``tempodesk.tickets.queries`` (an agent never sees a ticket
or a state their groups may not see), and a bulk action is one ``Actions.perform`` per
ticket: each ticket's workflow still decides through its own Update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from statemachines import (
    ActionSpec,
    FieldErrors,
    ProcessDefinition,
    Rejection,
    actions_for,
    may_see,
)
from tempodesk.contracts import Actor
from tempodesk.core.db import aware
from tempodesk.core.models import (
    Follow,
    Presence,
    Ticket,
    utcnow,
)
from tempodesk.core.temporal import ActionRejected, EngineUnavailable, TicketNotFound
from tempodesk.tickets import lists, processes, queries
from tempodesk.tickets.actions import Actions

PRESENCE_WINDOW = timedelta(seconds=60)
ACTIVITIES = ("viewing", "composing")
BULK_MAX = 100


# ------------------------------------------------------------------ the ticket page


@dataclass(frozen=True)
class Seen:
    """Another agent who had the ticket open in the last minute."""

    username: str
    activity: str

    @property
    def text(self) -> str:
        if self.activity == "composing":
            return f"{self.username} is writing a reply"
        return f"{self.username} is looking at this ticket"


@dataclass
class TicketHeader:
    following: bool
    others: list[Seen] = field(default_factory=list)


def note_presence(
    session: Session, username: str, number: str, activity: str, now: datetime | None = None
) -> None:
    """Record that the agent has the ticket open (viewing, or composing in an action form)."""
    if activity not in ACTIVITIES:
        raise lists.BadQuery(f"The activity is one of {', '.join(ACTIVITIES)}.")
    now = now or utcnow()
    # The agent's older marks elsewhere mean nothing any more: keep the table small.
    session.execute(
        delete(Presence)
        .where(Presence.username == username)
        .where(Presence.ticket_number != number)
        .where(Presence.seen_at < now - PRESENCE_WINDOW)
    )
    row = session.get(Presence, (number, username))
    if row is None:
        session.add(
            Presence(ticket_number=number, username=username, activity=activity, seen_at=now)
        )
    else:
        row.activity, row.seen_at = activity, now


def others_present(
    session: Session, number: str, username: str, now: datetime | None = None
) -> list[Seen]:
    """The other agents seen on the ticket within the last minute, composers first."""
    cutoff = (now or utcnow()) - PRESENCE_WINDOW
    rows = session.scalars(
        select(Presence)
        .where(Presence.ticket_number == number)
        .where(Presence.username != username)
        .order_by(Presence.username)
    )
    # Compared in Python: SQLite keeps datetimes as text without a zone.
    seen = [Seen(r.username, r.activity) for r in rows if (aware(r.seen_at) or cutoff) > cutoff]
    return sorted(seen, key=lambda s: (s.activity != "composing", s.username))


def is_following(session: Session, username: str, number: str) -> bool:
    return session.get(Follow, (number, username)) is not None


def set_following(session: Session, username: str, number: str, follow: bool) -> None:
    row = session.get(Follow, (number, username))
    if follow and row is None:
        session.add(Follow(ticket_number=number, username=username))
    elif not follow and row is not None:
        session.delete(row)


def ticket_header(session: Session, actor: Actor, ticket: Ticket) -> TicketHeader:
    return TicketHeader(
        following=is_following(session, actor.username, ticket.number),
        others=others_present(session, ticket.number, actor.username),
    )


# ------------------------------------------------------------------ bulk actions


@dataclass(frozen=True)
class BulkAction:
    id: str
    label: str


@dataclass(frozen=True)
class BulkOutcome:
    number: str
    done: bool
    message: str
    rejection: Rejection | None = None  # why the ticket refused (the page translates its code)


def bulk_actions(session: Session, actor: Actor) -> list[BulkAction]:
    """Actions the bulk bar offers: those without required fields that the agent may perform
    in some state they may see (each ticket's workflow still decides for itself)."""
    found: dict[str, str] = {}
    for definition in processes.published_definitions(session):
        for state in definition.states:
            if state.final or not may_see(definition, state.id, actor):
                continue
            for action in actions_for(definition, state.id, actor):
                if not any(f.required for f in action.fields):
                    found.setdefault(action.id, action.label)
    return [BulkAction(k, v) for k, v in sorted(found.items(), key=lambda item: item[1].lower())]


def assign_action(
    definition: ProcessDefinition, state: str, actor: Actor, assignee: str | None
) -> tuple[ActionSpec, str] | None:
    """The action that assigns this ticket to an agent now, and its agent field."""
    if definition.state(state).final:
        return None
    for action in actions_for(definition, state, actor, assignee):
        for effect in action.effects:
            spec = action.field(effect.arg("field")) if effect.type == "assign" else None
            others_required = any(f.required for f in action.fields if f is not spec)
            if spec is not None and spec.type == "agent" and not others_required:
                return action, spec.id
    return None


def run_bulk(
    service: Actions,
    sessions: sessionmaker[Session],
    actor: Actor,
    numbers: Iterable[str],
    *,
    action_id: str = "",
    agent: str = "",
    request_id: str = "",
    seen_states: Mapping[str, str] | None = None,
) -> list[BulkOutcome]:
    """Perform one action (or assign to ``agent``) on each ticket, each through its own
    workflow Update, and say what happened to each. A ticket the agent may not see is
    reported exactly like one that does not exist. With ``seen_states`` (number → the state
    the agent's list showed), a ticket that has moved since is refused, not acted on."""
    outcomes = []
    seen = seen_states or {}
    for number in list(dict.fromkeys(n.strip() for n in numbers if n.strip()))[:BULK_MAX]:
        outcomes.append(
            _bulk_one(
                service, sessions, actor, number, action_id, agent, request_id, seen.get(number)
            )
        )
    return outcomes


def _bulk_one(
    service: Actions,
    sessions: sessionmaker[Session],
    actor: Actor,
    number: str,
    action_id: str,
    agent: str,
    request_id: str,
    seen_state: str | None,
) -> BulkOutcome:
    hidden = BulkOutcome(number, False, "No such ticket (or you may not see it).")
    values: dict[str, Any] = {}
    if agent:
        with sessions() as session:
            ticket = queries.find_ticket(session, number, actor)
            if ticket is None:
                return hidden
            definition = processes.definition(session, ticket.process_name, ticket.process_version)
            found = assign_action(definition, ticket.state, actor, ticket.assignee)
            if found is None:
                return BulkOutcome(
                    number, False, f"It cannot be assigned while it is “{ticket.state_label}”."
                )
            action_id, values = found[0].id, {found[1]: agent}
    try:
        result = service.perform(
            actor,
            number,
            action_id,
            values,
            expected_state=seen_state or None,
            request_id=f"bulk-{actor.username}-{request_id}-{number}"[:200] if request_id else None,
        )
    except TicketNotFound:
        return hidden
    except ActionRejected as exc:
        detail = "; ".join(exc.field_errors.values())
        message = exc.message + (f" ({detail})" if detail else "")
        return BulkOutcome(number, False, message, exc.rejection)
    except FieldErrors as exc:
        return BulkOutcome(number, False, " ".join(exc.errors.values()))
    except EngineUnavailable:
        return BulkOutcome(number, False, "The ticket engine did not answer; try it again.")
    return BulkOutcome(number, True, f"Done: the ticket is now “{result.state_label}”.")
