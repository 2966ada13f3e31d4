"""Tickets in relation to each other: merging one into another, and links.

The web asks here; nothing here writes a ticket. The merge itself is the merged ticket's
workflow's (the ``merge_into`` Update, which tells the survivor: ``workflows.ticket_relations``);
this checks first what the agent can be told at once (both tickets exist and are visible to
them, the survivor still takes messages).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statemachines import REJECTION_TEXTS, RESOLVED_CATEGORIES
from statemachines.rights import ACT, holds
from tempodesk.contracts import (
    LINK_KINDS,
    MERGED,
    UPDATE_LINK_TICKET,
    Actor,
    LinkTicketInput,
    LinkTicketResult,
    MergeTicketInput,
)
from tempodesk.core.models import Ticket, TicketLink
from tempodesk.core.temporal import TemporalFacade, TicketNotFound
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


class LinkInvalid(ValueError):
    """The link cannot be asked for; ``str()`` says why (English: the web translates it)."""


#: The kinds the API and the desk accept, and what each means for the ticket asked.
LINK_ALIASES = {"duplicate": "duplicate_of"}


def link_request(
    session: Session,
    actor: Actor,
    number: str,
    other: str,
    kind: str,
    *,
    remove: bool = False,
    wait: bool = False,
) -> LinkTicketInput:
    """What to ask ticket ``number``'s workflow (``UPDATE_LINK_TICKET``) to link it to
    ``other`` as ``kind`` (``other`` is this ticket's parent, child, …) or to unlink.
    TicketNotFound: ``number`` is unknown or hidden; LinkInvalid: why not."""
    source = find_ticket(session, number, actor)
    if source is None:
        raise TicketNotFound(number)
    other = other.strip()
    target = find_ticket(session, other, actor) if other else None
    if target is None:
        raise LinkInvalid("There is no such ticket (or you may not see it).")
    if target.number == source.number:
        raise LinkInvalid("A ticket cannot be linked to itself.")
    kind = LINK_ALIASES.get(kind, kind)
    if remove:
        kind = kind if kind in LINK_KINDS else _kind_of(session, number, target.number)
    if kind not in LINK_KINDS:
        raise LinkInvalid(
            "Choose a kind of link: related, duplicate_of, duplicated_by, parent or child."
        )
    if source.state_category in ENDED:
        raise LinkInvalid("This ticket is closed; it cannot be changed.")
    is_open = target.state_category not in (*RESOLVED_CATEGORIES, MERGED)
    return LinkTicketInput(target.number, kind, actor, remove, wait, is_open)


def _kind_of(session: Session, number: str, other: str) -> str:
    return (
        session.scalar(
            select(TicketLink.kind).where(
                TicketLink.ticket_number == number, TicketLink.other_number == other
            )
        )
        or "related"
    )


def links_of(session: Session, number: str) -> list[tuple[TicketLink, Ticket | None]]:
    """Ticket ``number``'s links, each with the other ticket's row (None: deleted since)."""
    rows = session.execute(
        select(TicketLink, Ticket)
        .outerjoin(Ticket, Ticket.number == TicketLink.other_number)
        .where(TicketLink.ticket_number == number)
        .order_by(TicketLink.kind, TicketLink.other_number)
    )
    return [(link, ticket) for link, ticket in rows]


def links_json(session: Session, number: str) -> list[dict[str, Any]]:
    """Ticket ``number``'s links as the API shows them."""
    return [
        {
            "ticket": link.other_number,
            "kind": link.kind,
            "subject": other.subject if other else None,
            "state_category": other.state_category if other else None,
        }
        for link, other in links_of(session, number)
    ]


def unlink_requests(
    session: Session, number: str, actor: Actor
) -> list[tuple[str, LinkTicketInput]]:
    """What to ask each open ticket linked to ticket ``number`` so it lets go of it (before
    ``number`` is deleted: a parent stops waiting for a deleted child)."""
    rows = session.execute(
        select(TicketLink.ticket_number, TicketLink.kind)
        .join(Ticket, Ticket.number == TicketLink.ticket_number)
        .where(TicketLink.other_number == number)
        .where(Ticket.state_category.not_in(ENDED))
    )
    return [(other, LinkTicketInput(number, kind, actor, remove=True)) for other, kind in rows]


def unlinker(temporal: TemporalFacade) -> Callable[[str, LinkTicketInput], object]:
    """Ask a ticket to unlink (``privacy.forget.delete_ticket_everywhere``'s ``unlink``)."""
    return lambda number, ask: temporal.relate(number, UPDATE_LINK_TICKET, ask, LinkTicketResult)
