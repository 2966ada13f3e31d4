"""The filter form of the desk's lists: criteria to and from its fields, and the choices it
offers (only the states the agent may see).

The form comes as a query string (narrowing a list) or a posted form (saving a filter); both
become criteria through ``lists.clean_criteria``, and criteria go back into the form's
fields, or into hidden inputs that carry them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statemachines import PRIORITIES, STATE_CATEGORIES, may_see
from tempodesk.contracts import Actor
from tempodesk.core.models import Channel, Group, User
from tempodesk.tickets import lists, processes, queries, tags

_FORM_LISTS = ("state", "category", "priority", "rating", "channel", "tag")
_FORM_TEXTS = ("assignee", "group", "process", "mailbox", "customer", "text")
_TRUE = {"1", "on", "true", "yes"}


def criteria_from_form(form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Criteria from the filter form (a query string or a posted form, as lists of values).

    Field pairs come as ``field_name`` / ``field_value``; checked boxes as "on".
    """

    def one(key: str) -> str:
        values = form.get(key) or []
        return str(values[0]).strip() if values else ""

    raw: dict[str, Any] = {
        key: [str(v).strip() for v in form.get(key) or [] if str(v).strip()] for key in _FORM_LISTS
    }
    raw.update({key: one(key) for key in _FORM_TEXTS})
    names, values = form.get("field_name") or [], form.get("field_value") or []
    raw["fields"] = {
        str(n).strip(): str(v).strip()
        for n, v in zip(names, values, strict=False)
        if str(n).strip() and str(v).strip()
    }
    for flag in ("unread", "followed"):
        if one(flag).lower() in _TRUE:
            raw[flag] = True
    criteria = lists.clean_criteria(raw)
    bad = [c for c in criteria.get("category", []) if c not in STATE_CATEGORIES]
    if bad:
        raise lists.BadQuery(f"Unknown state category: {', '.join(bad)}.")
    return criteria


def criteria_to_form(criteria: Mapping[str, Any]) -> dict[str, list[str]]:
    """The inverse of ``criteria_from_form``: what the form shows, or hidden inputs carry."""
    form: dict[str, list[str]] = {}
    for key in _FORM_LISTS:
        if criteria.get(key):
            form[key] = [str(v) for v in criteria[key]]
    for key in _FORM_TEXTS:
        if criteria.get(key):
            form[key] = [str(criteria[key])]
    fields = criteria.get("fields") or {}
    if fields:
        form["field_name"] = [str(k) for k in fields]
        form["field_value"] = [str(v) for v in fields.values()]
    for flag in ("unread", "followed"):
        if criteria.get(flag):
            form[flag] = ["on"]
    return form


@dataclass
class FilterOptions:
    """The choices the filter form offers (only states the agent may see)."""

    states: list[tuple[str, str]]
    categories: Sequence[str]
    priorities: Mapping[int, str]
    agents: list[User]
    groups: list[str]
    channels: list[str]
    processes: list[str]
    mailboxes: list[str]
    tags: list[str] = field(default_factory=list)  # the curated ones, offered


def filter_options(session: Session, actor: Actor) -> FilterOptions:
    states: dict[str, str] = {}
    for definition in processes.published_definitions(session):
        for state in definition.states:
            if may_see(definition, state.id, actor):
                states.setdefault(state.id, state.label)
    channels = list(session.execute(select(Channel.name, Channel.kind).order_by(Channel.name)))
    return FilterOptions(
        states=sorted(states.items(), key=lambda item: item[1].lower()),
        categories=STATE_CATEGORIES,
        priorities=PRIORITIES,
        agents=queries.active_agents(session),
        groups=list(session.scalars(select(Group.name).order_by(Group.name))),
        channels=[name for name, _ in channels],
        processes=processes.names(session),
        mailboxes=[name for name, kind in channels if kind == "email"],
        tags=[t.name for t in tags.curated(session)],
    )
