"""Placing problems: each problem of a check next to the state, action, field or effect its
location names, so the form shows it where the admin can fix it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from statemachines import Problem


@dataclass
class Placement:
    """Problems by what causes them; ``top`` holds the rest (process-wide ones)."""

    top: list[Problem] = field(default_factory=list)
    states: dict[str, list[Problem]] = field(default_factory=dict)
    actions: dict[str, list[Problem]] = field(default_factory=dict)
    fields: dict[tuple[str, int], list[Problem]] = field(default_factory=dict)
    effects: dict[tuple[str, int], list[Problem]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.top) + sum(
            len(ps)
            for group in (self.states, self.actions, self.fields, self.effects)
            for ps in group.values()
        )


_ITEM = re.compile(r"^(fields|effects)\[(\d+)\]")


def place(
    problems: Iterable[Problem], state_ids: Iterable[str], action_ids: Iterable[str]
) -> Placement:
    """Put each problem next to the state, action, field or effect its location names."""
    placement = Placement()
    states = sorted(state_ids, key=len, reverse=True)  # "open_x" before "open"
    actions = sorted(action_ids, key=len, reverse=True)
    for problem in problems:
        location = problem.location
        state = _owner(location, "states.", states)
        if state is not None:
            placement.states.setdefault(state, []).append(problem)
            continue
        action = _owner(location, "actions.", actions)
        if action is None:
            placement.top.append(problem)
            continue
        item = _ITEM.match(location[len(f"actions.{action}.") :])
        if item is None:
            placement.actions.setdefault(action, []).append(problem)
        else:
            group = placement.fields if item.group(1) == "fields" else placement.effects
            group.setdefault((action, int(item.group(2))), []).append(problem)
    return placement


def _owner(location: str, prefix: str, ids: list[str]) -> str | None:
    for item_id in ids:
        head = prefix + item_id
        if location == head or location.startswith((head + ".", head + "[")):
            return item_id
    return None
