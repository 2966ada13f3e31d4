"""Tickets in relation to each other: merging one into another.

The web asks here; nothing here writes a ticket. The merge itself is the merged ticket's
workflow's (the ``merge_into`` Update, which tells the survivor: ``workflows.ticket_relations``);
this checks first what the agent can be told at once (both tickets exist and are visible to
them, the survivor still takes messages).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from statemachines import REJECTION_TEXTS
from statemachines.rights import ACT, holds
from tempodesk.contracts import MERGED, Actor, MergeTicketInput
from tempodesk.core.temporal import TicketNotFound
from tempodesk.tickets.queries import find_ticket

ENDED = ("closed", MERGED)


class MergeInvalid(ValueError):
    """The merge cannot be asked for; ``str()`` says why (English: the web translates it)."""


def merge_request(
    session: Session, actor: Actor, number: str, into: str
) -> MergeTicketInput | None:
    """What to ask ticket ``number``'s workflow (``TemporalFacade.merge_ticket``) to merge it
    into ticket ``into``; None: it is merged into that one already (a retry: done once).
    TicketNotFound: ``number`` is unknown or hidden from the actor;
    MergeInvalid: why not (the workflow checks again: ``MergeRefused``)."""
    source = find_ticket(session, number, actor)
    if source is None:
        raise TicketNotFound(number)
    if not holds(actor, ACT):
        raise MergeInvalid(REJECTION_TEXTS["read_only"])
    into = into.strip()
    survivor = find_ticket(session, into, actor) if into else None
    if survivor is None:
        raise MergeInvalid("There is no such ticket (or you may not see it).")
    if source.merged_into == survivor.number:
        return None
    if survivor.number == source.number:
        raise MergeInvalid("A ticket cannot be merged into itself.")
    if source.state_category in ENDED:
        raise MergeInvalid("This ticket is closed; it cannot be merged.")
    if survivor.state_category in ENDED:
        raise MergeInvalid("That ticket is closed; it cannot take another ticket.")
    return MergeTicketInput(survivor.number, actor)
