"""Ticket lists: the built-in views, criteria (as saved filters keep them), sorting, keyset
pages, counts and full-text search.

One place answers "which tickets, in which order" for the desk's lists, the search page and
the API, always inside ``queries.visible_tickets`` (an agent never sees a state their groups
may not see). Search uses PostgreSQL full-text search (``search_vector``, a stored
``to_tsvector('simple', search_text)`` with a GIN index) or SQLite FTS5 (``ticket_fts``),
both maintained from ``tickets.search_text``, which the projection keeps up to date (built
by ``search_text``). Diacritics never matter: "novakova" finds "Nováková" in both (FTS5
folds them itself; for PostgreSQL's ``simple`` configuration the text carries its words also
without them, and the query is folded). The approach is ``tempodesk.core.search``, shared with
the knowledge base's articles.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from statemachines import PRIORITIES
from tempodesk.contracts import Actor, normalise_tag
from tempodesk.core import search
from tempodesk.core.db import aware
from tempodesk.core.models import Follow, Ticket, TicketRead
from tempodesk.tickets import queries, tags

OPEN = ("new", "open", "pending", "resolved")
SEARCH_TEXT_MAX = 200_000


@dataclass(frozen=True)
class View:
    key: str
    label: str
    criteria: Mapping[str, Any]


#: Built-in views, in the default order of the desk's left panel.
BUILT_IN: tuple[View, ...] = (
    View("mine", "Mine", {"assignee": "me", "category": list(OPEN)}),
    View("unassigned", "Unassigned", {"assignee": "none", "category": list(OPEN)}),
    View("my_groups", "My groups", {"group": "mine", "category": list(OPEN)}),
    View("unread", "Unread", {"unread": True, "category": list(OPEN)}),
    View("followed", "Followed", {"followed": True}),
    View("open", "All open", {"category": list(OPEN)}),
    View("sla_at_risk", "SLA at risk", {"sla": "at_risk", "category": list(OPEN)}),
    View("sla_breached", "Breached", {"sla": "breached", "category": list(OPEN)}),
    View("waiting", "Waiting for customer", {"category": ["pending"]}),
    View("spam", "Spam", {"state": ["spam"]}),
    View("all", "All tickets", {}),
)
BY_KEY = {view.key: view for view in BUILT_IN}
SORTS = ("newest", "oldest", "updated", "priority")
SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "updated": "Recently updated",
    "priority": "Highest priority",
}
CRITERIA_KEYS = {
    "state",
    "category",
    "assignee",
    "group",
    "priority",
    "rating",
    "channel",
    "process",
    "mailbox",
    "fields",
    "text",
    "unread",
    "followed",
    "customer",
    "sla",
    "tag",
}
#: "SLA at risk": a target due within this long (and none breached yet).
SLA_AT_RISK = timedelta(hours=1)


class BadQuery(ValueError):
    """A cursor or criteria that were not made by us; the message says which."""


@dataclass
class Page:
    items: list[Ticket]
    next_cursor: str | None
    total: int | None = None
    unread: set[str] = field(default_factory=set)


def clean_criteria(raw: Any) -> dict[str, Any]:
    """Criteria as stored in a saved filter: only known keys, lists of strings."""
    if not isinstance(raw, Mapping):
        raise BadQuery("Criteria are a mapping.")
    unknown = set(raw) - CRITERIA_KEYS
    if unknown:
        raise BadQuery(f"Unknown criteria: {', '.join(sorted(unknown))}.")
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        if value in (None, "", [], {}):
            continue
        if key in ("unread", "followed"):
            clean[key] = bool(value)
        elif key == "fields":
            if not isinstance(value, Mapping):
                raise BadQuery("'fields' maps a field name to a value.")
            clean[key] = {str(k)[:64]: str(v)[:200] for k, v in value.items()}
        elif key == "tag":  # a list of tags, or one text of tags separated by commas
            values = value if isinstance(value, list) else [value]
            clean[key] = tags.parse_tags(",".join(str(v) for v in values))[:20]
        elif key in ("assignee", "group", "text", "customer", "process", "mailbox", "sla"):
            clean[key] = str(value)[:200]
        else:
            values = value if isinstance(value, list) else [value]
            clean[key] = [str(v)[:64] for v in values][:50]
    return clean


def apply(
    session: Session, stmt: Select[Ticket], criteria: Mapping[str, Any], actor: Actor
) -> Select[Ticket]:
    """Narrow a ticket query by criteria (built-in views and saved filters alike)."""
    for key, value in criteria.items():
        if key == "state":
            stmt = stmt.where(Ticket.state.in_(value))
        elif key == "category":
            stmt = stmt.where(Ticket.state_category.in_(value))
        elif key == "assignee":
            if value == "me":
                stmt = stmt.where(Ticket.assignee == actor.username)
            elif value == "none":
                stmt = stmt.where(Ticket.assignee.is_(None))
            else:
                stmt = stmt.where(Ticket.assignee == value)
        elif key == "group":
            groups = list(actor.groups) if value == "mine" else [value]
            stmt = stmt.where(Ticket.group_name.in_(groups))
        elif key == "priority":
            asked = {str(v).strip() for v in value}  # only real priorities reach the query
            stmt = stmt.where(Ticket.priority.in_([p for p in PRIORITIES if str(p) in asked]))
        elif key == "rating":
            stmt = stmt.where(_rating_clause({str(v).strip() for v in value}))
        elif key == "channel":
            stmt = stmt.where(Ticket.channel.in_(value))
        elif key == "process":
            stmt = stmt.where(Ticket.process_name == value)
        elif key == "mailbox":
            stmt = stmt.where(Ticket.mailbox == value)
        elif key == "customer":
            pattern = f"%{_like(value.lower())}%"
            stmt = stmt.where(
                or_(
                    func.lower(Ticket.customer_email).like(pattern, escape="\\"),
                    func.lower(Ticket.customer_name).like(pattern, escape="\\"),
                )
            )
        elif key == "fields":
            for name, wanted in value.items():
                stmt = stmt.where(Ticket.fields[name].as_string() == wanted)
        elif key == "text":
            stmt = stmt.where(matches(session, value))
        elif key == "sla":
            stmt = stmt.where(_sla_clause(value))
        elif key == "tag":  # every tag asked for
            for tag in value:
                stmt = stmt.where(tags.tagged(normalise_tag(tag)))
        elif key == "unread" and value:
            stmt = stmt.where(unread_clause(actor.username))
        elif key == "followed" and value:
            # IN (the agent's few follows) rather than EXISTS per ticket: SQLite would probe
            # the follows of every visible ticket (~90 ms at 100k tickets) instead.
            followed = select(Follow.ticket_number).where(Follow.username == actor.username)
            stmt = stmt.where(Ticket.number.in_(followed))
    return stmt


def _rating_clause(asked: set[str]) -> ColumnElement[bool]:
    """Rated tickets ("rated": any score) or those with one of the scores asked (1-5)."""
    if "rated" in asked:
        return Ticket.rating_score.is_not(None)
    return Ticket.rating_score.in_([n for n in range(1, 6) if str(n) in asked])


def _sla_clause(value: str) -> ColumnElement[bool]:
    """Breached: any target breached; at risk: none breached, one due within the hour."""
    if value == "breached":
        return Ticket.sla_breached.is_(True)
    soon = datetime.now(UTC) + SLA_AT_RISK
    return and_(Ticket.sla_breached.is_not(True), Ticket.sla_due_at <= soon)


def unread_clause(username: str) -> ColumnElement[bool]:
    """Tickets with events the agent has not seen (never opened counts as unread)."""
    read = (
        select(TicketRead.seen_seq)
        .where(TicketRead.ticket_number == Ticket.number)
        .where(TicketRead.username == username)
        .scalar_subquery()
    )
    return func.coalesce(read, 0) < Ticket.event_seq


def matches(session: Session, query: str) -> ColumnElement[bool]:
    """Full-text match of a user's words (all must occur; the last may be a prefix)."""
    # tickets.search_vector: to_tsvector('simple', search_text), stored (migration 0005).
    return search.matches(session, query, table="tickets", fts_table="ticket_fts", row_id=Ticket.id)


def _words(query: str) -> list[str]:
    return search.query_words(query)


fold = search.fold


def field_texts(fields: Mapping[str, Any]) -> list[str]:
    """A ticket's field values as search finds them (numbers, dates, texts, choices)."""
    texts: list[str] = []
    for value in fields.values():
        values = value if isinstance(value, list) else [value]
        texts += [
            str(v) for v in values if isinstance(v, str | int | float) and not isinstance(v, bool)
        ]
    return texts


def search_text(parts: Iterable[str]) -> str:
    """What search reads for a ticket: the ``parts`` (number, subject, customer, order, message
    bodies) one per line, at most ``SEARCH_TEXT_MAX`` characters, then a last line with every
    word that has diacritics written without them (once each)."""
    return search.search_text(parts, SEARCH_TEXT_MAX)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _order(sort: str) -> tuple[Any, ...]:
    if sort == "oldest":
        return (Ticket.id.asc(),)
    if sort == "updated":
        return (Ticket.updated_at.desc(), Ticket.id.desc())
    if sort == "priority":
        return (Ticket.priority.desc(), Ticket.id.desc())
    return (Ticket.id.desc(),)


def _after(sort: str, cursor: Mapping[str, Any]) -> ColumnElement[bool]:
    last_id = int(cursor["id"])
    if sort == "oldest":
        return Ticket.id > last_id
    if sort == "updated":
        when = datetime.fromisoformat(cursor["k"])
        return or_(Ticket.updated_at < when, and_(Ticket.updated_at == when, Ticket.id < last_id))
    if sort == "priority":
        level = int(cursor["k"])
        return or_(Ticket.priority < level, and_(Ticket.priority == level, Ticket.id < last_id))
    return Ticket.id < last_id


def _cursor_for(sort: str, ticket: Ticket) -> str:
    key: Any = None
    if sort == "updated":
        key = (aware(ticket.updated_at) or datetime.min).isoformat()
    elif sort == "priority":
        key = ticket.priority
    raw = json.dumps({"s": sort, "k": key, "id": ticket.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(cursor: str, sort: str) -> dict[str, Any]:
    if len(cursor) > 200:  # ours are far shorter
        raise BadQuery("The cursor is not valid.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise BadQuery("The cursor is not valid.") from None
    if not isinstance(data, dict) or data.get("s") != sort or not _fits(data.get("id")):
        raise BadQuery("The cursor is not valid for this list.")
    key = data.get("k")
    if sort == "priority" and not _fits(key):
        raise BadQuery("The cursor is not valid for this list.")
    if sort == "updated":
        try:
            datetime.fromisoformat(str(key) if isinstance(key, str) else "")
        except ValueError:
            raise BadQuery("The cursor is not valid for this list.") from None
    return data


def _fits(value: Any) -> bool:
    """An integer a cursor may carry: what an id or a priority column can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def page(
    session: Session,
    actor: Actor,
    criteria: Mapping[str, Any],
    *,
    sort: str = "newest",
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """One page of a list, keyset-paginated in the chosen order."""
    if sort not in SORTS:
        raise BadQuery(f"Sort by one of {', '.join(SORTS)}.")
    stmt = apply(session, queries.visible_tickets(session, actor), criteria, actor)
    if cursor:
        stmt = stmt.where(_after(sort, _read_cursor(cursor, sort)))
    rows = list(session.scalars(stmt.order_by(*_order(sort)).limit(limit + 1)))
    items = rows[:limit]
    next_cursor = _cursor_for(sort, rows[limit - 1]) if len(rows) > limit else None
    return Page(items, next_cursor, unread=unread_among(session, actor, items))


def count(
    session: Session, actor: Actor, criteria: Mapping[str, Any], *, cap: int | None = None
) -> int:
    """How many tickets a list holds (at most ``cap + 1`` counted, if a cap is given)."""
    return counts(session, actor, {"": criteria}, cap=cap)[""]


def counts(
    session: Session,
    actor: Actor,
    lists_by_key: Mapping[str, Mapping[str, Any]],
    *,
    cap: int | None = None,
) -> dict[str, int]:
    """The sizes of several lists at once (the desk's left panel).

    The visibility rules are worked out once for all of them. With ``cap``, each count stops
    at ``cap + 1`` rows, so a huge list costs no more than a page of a thousand.
    """
    visible = queries.visible_tickets(session, actor)
    result: dict[str, int] = {}
    for key, criteria in lists_by_key.items():
        stmt: Select[Any] = apply(session, visible, criteria, actor)
        if cap is not None:
            stmt = stmt.with_only_columns(Ticket.id).limit(cap + 1)
        result[key] = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return result


def unread_among(session: Session, actor: Actor, tickets: list[Ticket]) -> set[str]:
    if not tickets:
        return set()
    seen = dict(
        session.execute(
            select(TicketRead.ticket_number, TicketRead.seen_seq)
            .where(TicketRead.username == actor.username)
            .where(TicketRead.ticket_number.in_([t.number for t in tickets]))
        ).all()
    )
    return {t.number for t in tickets if seen.get(t.number, 0) < t.event_seq}
