"""Rights: the one list of what an agent may do, and the roles Tempodesk ships.

A role is a named set of rights (admins keep them in ``tempodesk.people.roles``); an agent's
rights are the union of their roles' and their groups' roles' rights. The web puts them in
the ``Actor`` it sends; the workflow's Update validator checks them again (``rules``).

Pure. An actor without ``rights`` (``None``: histories and callers from before roles) holds
what it held then: an admin every right, an agent ``act`` (and ``manage_customers`` in the
group that carried that right by its name).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: Perform ticket actions, open tickets, merge them (read-only agents lack it).
ACT = "act"
#: See tickets in every state, whatever a process's ``visible_to`` says.
SEE_ALL_QUEUES = "see_all_queues"
#: See every contact, organisation and order; merge, import and upsert them.
MANAGE_CUSTOMERS = "manage_customers"
#: Read the reports of one's groups (supervisors read their groups' without it).
VIEW_REPORTS = "view_reports"
#: Delete tickets (spam, tests): their workflow terminated, their data removed.
DELETE_TICKETS = "delete_tickets"
#: The admin area, and every other right.
ADMIN = "admin"

#: Every right, in the order the admin pages list them.
RIGHTS: tuple[str, ...] = (
    ACT,
    SEE_ALL_QUEUES,
    MANAGE_CUSTOMERS,
    VIEW_REPORTS,
    DELETE_TICKETS,
    ADMIN,
)

#: The roles every installation has (admins may change their rights, not delete them).
SHIPPED_ROLES: dict[str, tuple[str, ...]] = {
    "agent": (ACT,),
    "supervisor": (ACT, VIEW_REPORTS),
    "admin": RIGHTS,
    "read-only": (),
}
#: The role a new user gets unless told otherwise; what existing agents got.
DEFAULT_ROLE = "agent"
#: The group whose name carried ``manage_customers`` before roles (its role carries it now).
LEGACY_CUSTOMERS_GROUP = "Customers"


def normalise(rights: Iterable[str]) -> list[str]:
    """Known rights only, in the list's order; ``admin`` implies every right."""
    held = set(rights)
    if ADMIN in held:
        return list(RIGHTS)
    return [r for r in RIGHTS if r in held]


def union(*sets: Iterable[str]) -> list[str]:
    """The rights of several roles together."""
    return normalise(r for rights in sets for r in rights)


def rights_of(actor: Any) -> frozenset[str]:
    """What an actor may do: its ``rights``, or what an actor from before roles held."""
    rights: Sequence[str] | None = getattr(actor, "rights", None)
    if rights is not None:
        return frozenset(normalise(rights))
    if getattr(actor, "is_admin", False):
        return frozenset(RIGHTS)
    legacy = {ACT}
    if LEGACY_CUSTOMERS_GROUP in getattr(actor, "groups", ()):
        legacy.add(MANAGE_CUSTOMERS)
    return frozenset(legacy)


def holds(actor: Any, right: str) -> bool:
    """Whether the actor holds ``right`` (admins hold every one)."""
    return right in rights_of(actor)
