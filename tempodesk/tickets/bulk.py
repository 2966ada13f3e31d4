"""Bulk actions: one action (or an assignment to an agent, or routing again) on many
tickets of a list.

A bulk action is one ``Actions.perform`` per ticket, never a write: each ticket's workflow
still decides through its own Update, and a ticket that has moved since the agent's list
showed it (``seen_states``) is refused, not acted on. The bar offers only actions
without required fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from statemachines import (
    ActionSpec,
    FieldErrors,
    ProcessDefinition,
    Rejection,
    actions_for,
    may_see,
)
from tempodesk.contracts import MERGED, Actor, RerouteInput
from tempodesk.core.temporal import ActionRejected, EngineUnavailable, TicketNotFound
from tempodesk.tickets import processes, queries
from tempodesk.tickets.actions import Actions

BULK_MAX = 100


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
    if state == MERGED or definition.state(state).final:
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
    reroute: bool = False,
) -> list[BulkOutcome]:
    """Perform one action (or assign to ``agent``, or route again: ``reroute``) on each
    ticket, each through its own workflow Update, and say what happened to each. A ticket
    the agent may not see is reported exactly like one that does not exist. With
    ``seen_states`` (number → the state the agent's list showed), a ticket that has moved
    since is refused, not acted on."""
    outcomes = []
    seen = seen_states or {}
    for number in list(dict.fromkeys(n.strip() for n in numbers if n.strip()))[:BULK_MAX]:
        if reroute:
            outcomes.append(_reroute_one(service, sessions, actor, number))
            continue
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


def _reroute_one(
    service: Actions, sessions: sessionmaker[Session], actor: Actor, number: str
) -> BulkOutcome:
    """Route one ticket again through its workflow's ``reroute`` Update (the rules, then its
    group's strategy); the agent must see the ticket."""
    with sessions() as session:
        if queries.find_ticket(session, number, actor) is None:
            return BulkOutcome(number, False, "No such ticket (or you may not see it).")
    try:
        result = service.temporal.reroute(number, RerouteInput(actor.username, "bulk"))
    except ActionRejected as exc:
        return BulkOutcome(number, False, exc.message, exc.rejection)
    except EngineUnavailable:
        return BulkOutcome(number, False, "The ticket engine did not answer; try it again.")
    if result.assignee:
        return BulkOutcome(number, True, f"Routed to {result.assignee} ({result.group or '-'}).")
    return BulkOutcome(number, True, f"Routed to the queue of {result.group or '-'}.")
