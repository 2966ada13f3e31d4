"""Satisfaction ratings (CSAT): the signed rating link, taking a rating in, and reading them.

The link (``/rate/<token>``) is signed with the app's secret (itsdangerous, its own salt) and
names the ticket, the event that asked for the rating and the agent it is about; it is good
for ``LINK_DAYS`` and may be used again (the latest rating counts), so nothing about it is
stored. A rating goes to the ticket's workflow as the ``rate`` signal, its comment stored
first as a message (a claim check); a ticket whose run has ended gets a new run restored
from its projection, not reopened, which takes the rating and ends at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from statemachines import FieldErrors
from tempodesk.contracts import RateInput, TicketStartInput
from tempodesk.core.db import aware, transaction
from tempodesk.core.ids import rating_key
from tempodesk.core.models import Message, Ticket, TicketRating
from tempodesk.core.temporal import TemporalFacade, TicketNotFound
from tempodesk.tickets import processes, queries

SALT = "tempodesk.rating"
LINK_DAYS = 30
SCORES = (1, 2, 3, 4, 5)
COMMENT_MAX = 2000
#: Where a customer may rate from: a resolved or closed request that was asked.
RATEABLE = ("resolved", "closed")


@dataclass(frozen=True)
class RatingLink:
    """What a rating link names: the ticket, the answer (event) rated, the agent."""

    number: str
    asked_seq: int
    agent: str


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def sign(secret: str, link: RatingLink) -> str:
    return _serializer(secret).dumps([link.number, link.asked_seq, link.agent])


def read(secret: str, token: str, *, max_days: int = LINK_DAYS) -> RatingLink | None:
    """The link a token names, or None: forged, altered, expired or malformed alike."""
    try:
        data = _serializer(secret).loads(token, max_age=max_days * 86400)
    except BadData:
        return None
    if not (isinstance(data, list) and len(data) == 3):
        return None
    number, asked_seq, agent = data
    if not (isinstance(number, str) and isinstance(asked_seq, int) and isinstance(agent, str)):
        return None
    return RatingLink(number, asked_seq, agent)


def template_rating(secret: str, public_url: str, ticket: Ticket) -> dict[str, Any]:
    """A template's ``rating``: the link and one link per score (empty if never asked)."""
    if not ticket.rating_asked_seq:
        return {"url": "", "links": []}
    link = RatingLink(ticket.number, ticket.rating_asked_seq, ticket.rating_agent or "")
    url = f"{public_url}/rate/{sign(secret, link)}"
    return {"url": url, "links": [{"score": n, "url": f"{url}?score={n}"} for n in SCORES]}


def ticket_of(session: Session, link: RatingLink) -> Ticket | None:
    """The ticket a (verified) link rates, if it has that answer and was asked."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == link.number))
    if ticket is None or not ticket.rating_asked_seq or link.asked_seq > ticket.event_seq:
        return None
    return ticket


def portal_link(ticket: Ticket) -> RatingLink | None:
    """What the portal's "Rate our answer" rates: the ticket's last asked answer, once the
    request is resolved or closed (None: nothing to rate)."""
    if not ticket.rating_asked_seq or ticket.state_category not in RATEABLE:
        return None
    return RatingLink(ticket.number, ticket.rating_asked_seq, ticket.rating_agent or "")


def submit(
    sessions: sessionmaker[Session],
    temporal: TemporalFacade,
    link: RatingLink,
    score: int,
    comment: str,
    *,
    via: str,
    author: str,
    submission: str,
) -> None:
    """Check the rating, store its comment and signal the ticket (FieldErrors: refused;
    TicketNotFound: no such ticket)."""
    errors: dict[str, str] = {}
    if score not in SCORES:
        errors["score"] = "Choose a score from 1 to 5."
    if len(comment) > COMMENT_MAX:
        errors["comment"] = f"At most {COMMENT_MAX} characters."
    if errors:
        raise FieldErrors(errors)
    with transaction(sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == link.number))
        if ticket is None or ticket.merged_into:  # merged: its answers live on elsewhere
            raise TicketNotFound(link.number)
        message_id = _store_comment(session, ticket, comment, author, submission)
        pinned = processes.pin_version(session, ticket.process_name, ticket.process_version)
        start = TicketStartInput.restoring(pinned, queries.snapshot_of(ticket))
    rating = RateInput(
        score=score,
        asked_seq=link.asked_seq,
        agent=link.agent,
        comment_message_id=message_id,
        via=via,
        author=author,
        key=submission,
    )
    temporal.rate(start, rating)


def _store_comment(
    session: Session, ticket: Ticket, comment: str, author: str, submission: str
) -> int | None:
    text = comment.replace("\r\n", "\n").strip()
    if not text:
        return None
    key = rating_key(ticket.number, submission) if submission else None
    if key is not None:
        existing = session.scalar(select(Message).where(Message.idempotency_key == key))
        if existing is not None and existing.ticket_number == ticket.number:
            return existing.id
        if existing is not None:
            return None
    message = Message(
        ticket_number=ticket.number,
        idempotency_key=key,
        author=author,
        sender_role="customer",
        channel="rating",
        subject=ticket.subject,
        body=text,
    )
    session.add(message)
    session.flush()
    return message.id


@dataclass
class ShownRating:
    """A ticket's latest rating as the desk and the API show it."""

    score: int
    at: datetime | None
    agent: str
    via: str
    comment: str

    def as_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "at": self.at.isoformat() if self.at else None,
            "agent": self.agent,
            "via": self.via,
            "comment": self.comment,
        }


def latest(session: Session, ticket: Ticket) -> ShownRating | None:
    """The ticket's latest rating (None: not rated)."""
    if not ticket.rating_score:
        return None
    row = session.scalar(
        select(TicketRating)
        .where(TicketRating.ticket_number == ticket.number)
        .order_by(TicketRating.event_seq.desc())
        .limit(1)
    )
    comment = ""
    if row is not None and row.comment_message_id:
        stored = session.get(Message, row.comment_message_id)
        comment = stored.body if stored is not None and stored.attached else ""
    return ShownRating(
        score=ticket.rating_score,
        at=aware(ticket.rated_at),
        agent=row.agent if row is not None else (ticket.rating_agent or ""),
        via=row.via if row is not None else "",
        comment=comment,
    )


@dataclass
class Figures:
    count: int
    average: float


def agent_figures(session: Session, agent: str | None = None) -> dict[str, Figures]:
    """Each rated agent's (or one agent's) number of rated answers and average score."""
    stmt = select(TicketRating.agent, func.count(), func.avg(TicketRating.score))
    if agent is not None:
        stmt = stmt.where(TicketRating.agent == agent)
    rows = session.execute(stmt.group_by(TicketRating.agent))
    return {agent: Figures(int(count), round(float(avg), 2)) for agent, count, avg in rows}
