"""Tags on tickets: the admins' curated list and its policy, what to ask a ticket's
workflow when an agent adds or removes tags, and what the lists filter by.

Tickets' tags are the projection's (``ticket_tags``, written by the ticket's workflow);
the web writes only the curated list and the policy (reference data, audited).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from tempodesk.contracts import Actor, TagTicketInput, normalise_tag
from tempodesk.core import audit
from tempodesk.core.models import CuratedTag, TagPolicy, Ticket, TicketTag
from tempodesk.core.models.base import utcnow


class TagsInvalid(ValueError):
    """The tags cannot be given; ``str()`` says why (English: the web translates it)."""

    def __init__(self, message: str, **params: str):
        super().__init__(message % params if params else message)
        self.template = message
        self.params = params


def parse_tags(text: str | Iterable[str]) -> list[str]:
    """Tags from a comma-separated text or a list, normalised, each once, in order."""
    parts = text.split(",") if isinstance(text, str) else [str(t) for t in text]
    seen: list[str] = []
    for part in parts:
        tag = normalise_tag(part)
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def curated(session: Session) -> list[CuratedTag]:
    return list(session.scalars(select(CuratedTag).order_by(CuratedTag.name)))


def only_curated(session: Session) -> bool:
    policy = session.get(TagPolicy, 1)
    return bool(policy and policy.only_curated)


def tag_request(
    session: Session, actor: Actor, add: Iterable[str], remove: Iterable[str]
) -> TagTicketInput:
    """What to ask a ticket's workflow (``UPDATE_TAG_TICKET``): tags to add must be curated
    when the policy says so. TagsInvalid: why not."""
    added, removed = parse_tags(add), parse_tags(remove)
    if not added and not removed:
        raise TagsInvalid("Give at least one tag.")
    if added and only_curated(session):
        allowed = {t.name for t in curated(session)}
        if not set(added) <= allowed:
            raise TagsInvalid(
                "Only the admins' tags may be given: %(tags)s.",
                tags=", ".join(sorted(allowed)) or "-",
            )
    return TagTicketInput(added, removed, actor)


def tags_of(session: Session, numbers: Iterable[str]) -> dict[str, list[str]]:
    """Each ticket's tags (sorted), for a page or a list of rows."""
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(TicketTag.ticket_number, TicketTag.tag)
        .where(TicketTag.ticket_number.in_(list(numbers)))
        .order_by(TicketTag.ticket_number, TicketTag.tag)
    )
    for number, tag in rows:
        found.setdefault(number, []).append(tag)
    return found


def tagged(tag: str) -> ColumnElement[bool]:
    """A condition on ``tickets.number``: the ticket has this tag (lists and saved filters)."""
    return Ticket.number.in_(select(TicketTag.ticket_number).where(TicketTag.tag == tag))


def save_curated(session: Session, names: Iterable[str], only: bool, *, actor: str) -> list[str]:
    """Replace the curated list and the policy (an admin's change, audited)."""
    wanted = parse_tags(names)
    policy = session.get(TagPolicy, 1) or TagPolicy(id=1, only_curated=False)
    before = {"tags": [t.name for t in curated(session)], "only_curated": policy.only_curated}
    session.execute(delete(CuratedTag))
    for name in wanted:
        session.add(CuratedTag(name=name))
    policy.only_curated = only
    policy.updated_at = utcnow()
    policy.updated_by = actor
    session.add(policy)
    audit.record(
        session,
        "tags.update",
        actor=actor,
        object_type="tags",
        before=before,
        after={"tags": sorted(wanted), "only_curated": only},
    )
    session.flush()
    return wanted
