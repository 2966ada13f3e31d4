"""A customer's satisfaction rating reaching the ticket (the ``rate`` signal), as data.

Pure: the ticket as it will be, the comment to put on the timeline and what the "rated"
event records, or None when the signal is not taken (a score outside 1-5, a ticket that was
never asked for a rating, an answer it does not have, the same signal again). The latest
rating counts; the projection keeps one per answer (``ticket_ratings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import MessageLink, RateInput, TicketSnapshot

SCORES = range(1, 6)


@dataclass
class Rated:
    """The ticket as it will be and what its "rated" event records."""

    ticket: TicketSnapshot
    actor: str
    data: dict[str, Any]
    message_id: int | None = None
    links: list[MessageLink] = field(default_factory=list)


def take_rating(ticket: TicketSnapshot, input: RateInput, now: str) -> Rated | None:
    """The rating taken, or None (see the module)."""
    if input.score not in SCORES or not ticket.rating_asked_seq:
        return None
    if not 0 < input.asked_seq <= ticket.seq:
        return None
    if input.key and input.key == ticket.rating_key:
        return None  # the same form sent twice
    agent = input.agent or ticket.rating_agent
    actor = input.author or ticket.customer_email
    data: dict[str, Any] = {
        "score": input.score,
        "asked_seq": input.asked_seq,
        "agent": agent,
        "via": input.via,
    }
    links = []
    if input.comment_message_id:
        data["comment_message_id"] = input.comment_message_id
        links.append(
            MessageLink(
                message_id=input.comment_message_id,
                channel="rating",
                sender_role="customer",
                internal=False,
                author=actor,
            )
        )
    rated = replace(ticket, rating_score=input.score, rated_at=now, rating_key=input.key)
    return Rated(rated, actor, data, input.comment_message_id, links)
