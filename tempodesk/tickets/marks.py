"""Each agent's marks on tickets: the tickets they follow, how far they have read each one,
and where they are (presence: viewing or composing on a ticket within the last minute).

The marks are the agent's own desk data, never a ticket: the ticket page's script marks it
read up to the event it shows (the page's GET writes nothing), and the page's header shows
whether the agent follows it and who else is on it. The lists read them back as criteria
(the unread and followed views).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tempodesk.contracts import Actor
from tempodesk.core.db import aware
from tempodesk.core.models import Follow, Presence, Ticket, TicketRead, utcnow
from tempodesk.tickets import lists

PRESENCE_WINDOW = timedelta(seconds=60)
ACTIVITIES = ("viewing", "composing")


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


def is_following(session: Session, username: str, number: str) -> bool:
    return session.get(Follow, (number, username)) is not None


def set_following(session: Session, username: str, number: str, follow: bool) -> None:
    row = session.get(Follow, (number, username))
    if follow and row is None:
        session.add(Follow(ticket_number=number, username=username))
    elif not follow and row is not None:
        session.delete(row)


def mark_read(session: Session, username: str, ticket: Ticket, upto: int | None = None) -> None:
    """The agent has seen the ticket up to its event ``upto`` (what the page showed; never
    beyond the latest event), or up to its latest event."""
    seq = ticket.event_seq if upto is None else max(0, min(upto, ticket.event_seq))
    row = session.get(TicketRead, (username, ticket.number))
    if row is None:
        session.add(TicketRead(username=username, ticket_number=ticket.number, seen_seq=seq))
    elif row.seen_seq < seq:
        row.seen_seq = seq


def mark_unread(session: Session, username: str, number: str) -> None:
    row = session.get(TicketRead, (username, number))
    if row is not None:
        row.seen_seq = 0


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


def ticket_header(session: Session, actor: Actor, ticket: Ticket) -> TicketHeader:
    return TicketHeader(
        following=is_following(session, actor.username, ticket.number),
        others=others_present(session, ticket.number, actor.username),
    )
