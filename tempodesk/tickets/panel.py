"""The desk's left panel and view mode: which lists an agent keeps in the panel, in what
order, with how many tickets each, and how the lists are shown (table, compact, split).

An entry's key names a built-in view ("view:mine") or a saved filter ("filter:12"); a filter
deleted or no longer shared with the agent drops out of their panel. The layout is the
agent's own desk data (``DeskLayout``), never a ticket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tempodesk.contracts import Actor
from tempodesk.core.models import DeskLayout, utcnow
from tempodesk.tickets import lists, saved_filters
from tempodesk.tickets.panel_counts import CountCache

MODES = ("table", "compact", "split")
MODE_LABELS = {"table": "Table", "compact": "Compact list", "split": "Split view"}
DEFAULT_PANEL = tuple(f"view:{view.key}" for view in lists.BUILT_IN)
PANEL_MAX = 40
COUNT_CAP = 999  # the panel shows "999+" beyond: counting a huge list exactly buys nothing


@dataclass(frozen=True)
class Layout:
    views: list[str]
    mode: str


@dataclass(frozen=True)
class PanelEntry:
    key: str
    label: str
    count: int | None = None

    @property
    def count_text(self) -> str:
        if self.count is None:
            return ""
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


def layout_of(session: Session, username: str) -> Layout:
    """The agent's panel and view mode (the built-in views in a table until they change it)."""
    row = session.get(DeskLayout, username)
    if row is None:
        return Layout(list(DEFAULT_PANEL), "table")
    views = [v for v in row.views if isinstance(v, str)] if isinstance(row.views, list) else []
    return Layout(views, row.mode if row.mode in MODES else "table")


def _store(
    session: Session, username: str, *, views: list[str] | None = None, mode: str = ""
) -> None:
    row = session.get(DeskLayout, username)
    if row is None:
        row = DeskLayout(username=username, views=list(DEFAULT_PANEL), mode="table")
        session.add(row)
    if views is not None:
        row.views = list(views)  # a new list: JSON columns only notice reassignment
    if mode:
        row.mode = mode
    row.updated_at = utcnow()


def criteria_of(session: Session, actor: Actor, key: str) -> tuple[str, dict[str, Any]]:
    """(label, criteria) of a panel entry: "view:<key>" or "filter:<id>"."""
    kind, _, name = key.partition(":")
    if kind == "view" and name in lists.BY_KEY:
        return lists.BY_KEY[name].label, dict(lists.BY_KEY[name].criteria)
    if kind == "filter" and name.isdigit():
        for saved in saved_filters.filters_for(session, actor):
            if saved.id == int(name):
                return saved.name, dict(saved.criteria)
    raise lists.BadQuery(f"There is no list '{key}'.")


def resolve(session: Session, actor: Actor, key: str) -> tuple[str, dict[str, Any]] | None:
    """(label, criteria) of a panel entry, or None if it does not exist for this agent."""
    try:
        return criteria_of(session, actor, key)
    except lists.BadQuery:
        return None


def _known(session: Session, actor: Actor) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every list the agent may put in the panel: key -> (label, criteria)."""
    known = {f"view:{v.key}": (v.label, dict(v.criteria)) for v in lists.BUILT_IN}
    for saved in saved_filters.filters_for(session, actor):
        known[f"filter:{saved.id}"] = (saved.name, dict(saved.criteria))
    return known


def panel_keys(session: Session, actor: Actor, known: Mapping[str, Any] | None = None) -> list[str]:
    """The agent's panel entries that still exist for them (a deleted or unshared filter
    simply drops out)."""
    known = _known(session, actor) if known is None else known
    return [key for key in dict.fromkeys(layout_of(session, actor.username).views) if key in known]


def panel(
    session: Session,
    actor: Actor,
    *,
    with_counts: bool = True,
    kept: CountCache | None = None,
) -> list[PanelEntry]:
    """The left panel: the agent's entries in their order, each with its ticket count.

    With ``kept``: ``with_counts`` counts afresh and keeps the counts there; without, the
    entries carry the counts kept there if they are recent (else none: the page fetches
    them afterwards)."""
    known = _known(session, actor)
    keys = panel_keys(session, actor, known)
    sizes: dict[str, int] = {}
    if with_counts:
        sizes = lists.counts(session, actor, {k: known[k][1] for k in keys}, cap=COUNT_CAP)
        if kept is not None:
            kept.put(actor, keys, sizes)
    elif kept is not None:
        sizes = kept.get(actor, keys) or {}
    return [PanelEntry(k, known[k][0], sizes.get(k)) for k in keys]


def addable(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(key, label) of the views and filters the agent could add to their panel."""
    options = [(f"view:{v.key}", v.label) for v in lists.BUILT_IN]
    for saved in saved_filters.filters_for(session, actor):
        owner = "" if saved.owner == actor.username else f" (shared by {saved.owner})"
        options.append((f"filter:{saved.id}", f"{saved.name}{owner}"))
    shown = set(panel_keys(session, actor, dict(options)))
    return [(k, label) for k, label in options if k not in shown]


def add_entry(session: Session, actor: Actor, key: str) -> list[str]:
    """Put a view or a visible filter at the end of the panel."""
    if resolve(session, actor, key) is None:
        raise lists.BadQuery(f"There is no list '{key}'.")
    keys = panel_keys(session, actor)
    if key not in keys:
        if len(keys) >= PANEL_MAX:
            raise lists.BadQuery(f"The panel holds at most {PANEL_MAX} lists.")
        keys.append(key)
    _store(session, actor.username, views=keys)
    return keys


def remove_entry(session: Session, actor: Actor, key: str) -> list[str]:
    keys = [k for k in panel_keys(session, actor) if k != key]
    _store(session, actor.username, views=keys)
    return keys


def move_entry(session: Session, actor: Actor, key: str, offset: int) -> list[str]:
    """Move one entry up (negative offset) or down the panel."""
    keys = panel_keys(session, actor)
    if key in keys:
        old = keys.index(key)
        new = min(max(old + offset, 0), len(keys) - 1)
        keys.insert(new, keys.pop(old))
        _store(session, actor.username, views=keys)
    return keys


def reorder(session: Session, actor: Actor, order: Sequence[Any]) -> list[str]:
    """Put the panel in the given order (drag and drop). Unknown keys are ignored and entries
    the order leaves out keep their place at the end, so a stale page loses nothing."""
    current = panel_keys(session, actor)
    wanted = [k for k in dict.fromkeys(order) if isinstance(k, str) and k in current]
    keys = wanted + [k for k in current if k not in wanted]
    _store(session, actor.username, views=keys)
    return keys


def reset_panel(session: Session, actor: Actor) -> None:
    _store(session, actor.username, views=list(DEFAULT_PANEL))


def set_mode(session: Session, actor: Actor, mode: str) -> None:
    if mode not in MODES:
        raise lists.BadQuery(f"The view mode is one of {', '.join(MODES)}.")
    _store(session, actor.username, mode=mode)
