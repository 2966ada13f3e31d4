"""Moving a ticket to another version of its process: the state it lands in.

One rule for the admin's plan (which open tickets need a decision) and the ticket's own
``migrate_process`` validator (the authority).
"""

from __future__ import annotations

from collections.abc import Mapping

from .definition import ProcessDefinition


class MigrationRefused(ValueError):
    """The ticket cannot move to that version from its state (with this map)."""


def migration_target(
    definition: ProcessDefinition, state_id: str, state_map: Mapping[str, str]
) -> str:
    """The state a ticket in ``state_id`` has in ``definition`` (the version it moves to):
    the map's choice, else a state with the same id. Never a final state: a ticket is
    closed by an action, not by a migration."""
    ids = {s.id for s in definition.states}
    target = state_map.get(state_id) or (state_id if state_id in ids else "")
    if not target:
        raise MigrationRefused(f"The new version has no state '{state_id}'; map it to one.")
    problem = target_problem(definition, target)
    if problem == "unknown":
        raise MigrationRefused(f"The new version has no state '{target}'.")
    if problem == "final":
        raise MigrationRefused(
            f"'{target}' is a final state; close the ticket with an action instead."
        )
    return target


def target_problem(definition: ProcessDefinition, target: str) -> str:
    """Why a state cannot receive migrated tickets: "unknown", "final", or "" (it can)."""
    if target not in {s.id for s in definition.states}:
        return "unknown"
    return "final" if definition.state(target).final else ""
