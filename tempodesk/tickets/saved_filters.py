"""Saved filters: a list's criteria kept under a name, the agent's own or shared with groups.

An agent sees their own filters and those shared with one of their groups (an admin: every
shared one); they share with their own groups only, and edit or delete their own (an admin
also shared ones). The criteria are stored as ``lists.clean_criteria`` makes them. A deleted
filter leaves every panel with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.contracts import Actor
from tempodesk.core.models import DeskLayout, Group, SavedFilter
from tempodesk.tickets import lists

NAME_MAX = 100


class FilterInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def filters_for(session: Session, actor: Actor) -> list[SavedFilter]:
    """The agent's own filters and those shared with one of their groups."""
    rows = session.scalars(select(SavedFilter).order_by(SavedFilter.name, SavedFilter.id))
    mine = set(actor.groups)
    return [
        f
        for f in rows
        if f.owner == actor.username
        or (actor.is_admin and f.shared_with)
        or mine & set(f.shared_with)
    ]


def shareable_groups(session: Session, actor: Actor) -> list[str]:
    """Agents share with their own groups; admins with any group."""
    if actor.is_admin:
        return list(session.scalars(select(Group.name).order_by(Group.name)))
    return sorted(actor.groups)


def visible_filter(session: Session, actor: Actor, filter_id: int) -> SavedFilter | None:
    return next((f for f in filters_for(session, actor) if f.id == filter_id), None)


def may_edit(actor: Actor, saved: SavedFilter) -> bool:
    """Your own filters; a shared one also by an admin."""
    return saved.owner == actor.username or (actor.is_admin and bool(saved.shared_with))


def save_filter(
    session: Session,
    actor: Actor,
    *,
    name: str,
    criteria: Mapping[str, Any],
    shared_with: Iterable[str],
    existing: SavedFilter | None = None,
) -> SavedFilter:
    """Create a filter (owned by the actor), or change one they may edit."""
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not name:
        errors["name"] = "Give the filter a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    groups = sorted({g for g in shared_with if g})
    allowed = set(shareable_groups(session, actor))
    if set(groups) - allowed:
        errors["shared_with"] = "You may share a filter only with groups you belong to."
    try:
        clean = lists.clean_criteria(dict(criteria))
    except lists.BadQuery as exc:
        errors["criteria"] = str(exc)
        clean = {}
    if existing is not None and not may_edit(actor, existing):
        errors["owner"] = "Only its owner (or an admin, if it is shared) may change this filter."
    if errors:
        raise FilterInvalid(errors)
    saved = existing or SavedFilter(owner=actor.username)
    saved.name = name
    saved.criteria = clean
    saved.shared_with = groups
    if existing is None:
        session.add(saved)
    session.flush()
    return saved


def delete_filter(session: Session, actor: Actor, saved: SavedFilter) -> None:
    if not may_edit(actor, saved):
        raise FilterInvalid({"owner": "Only its owner (or an admin) may delete this filter."})
    key = f"filter:{saved.id}"
    # Take it out of every panel too: SQLite may hand the same id to a later filter.
    for layout in session.scalars(select(DeskLayout)):
        if key in (layout.views or []):
            layout.views = [k for k in layout.views if k != key]
    session.delete(saved)
    session.flush()
