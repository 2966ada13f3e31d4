"""Roles as admins keep them: named sets of rights (``statemachines.rights.RIGHTS``) given to
users and to groups, and what an agent's rights and groups come to.

An agent's rights are the union of their roles' and their groups' roles' rights
(``User.rights``). The groups they act in are their own and every group under a group they
supervise (``acting_groups``): a supervisor sees the subgroups' queues and may act where a
member of a subgroup may.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statemachines.rights import ADMIN, RIGHTS, SHIPPED_ROLES, normalise, union
from tempodesk.core.models import Role, User
from tempodesk.people.common import AccountInvalid

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
#: The role carrying ``manage_customers`` that the migration gave the group "Customers".
CUSTOMERS_ROLE = "customers"


@dataclass
class RoleData:
    """What an admin may set on a role (never the name of an existing one)."""

    description: str = ""
    rights: list[str] = field(default_factory=list)


def all_roles(session: Session) -> list[Role]:
    return list(session.scalars(select(Role).order_by(Role.name)))


def get_role(session: Session, name: str) -> Role | None:
    return session.scalar(select(Role).where(Role.name == name))


def find_roles(session: Session, names: list[str], errors: dict[str, str], key: str) -> list[Role]:
    """The roles named (each once); an unknown name is an error under ``key``."""
    wanted = sorted({n for n in names if n})
    roles = list(session.scalars(select(Role).where(Role.name.in_(wanted)))) if wanted else []
    unknown = sorted(set(wanted) - {r.name for r in roles})
    if unknown:
        errors[key] = f"There is no role {', '.join(repr(n) for n in unknown)}."
    return roles


def _check(data: RoleData, errors: dict[str, str]) -> list[str]:
    if len(data.description.strip()) > 255:
        errors["description"] = "At most 255 characters."
    unknown = sorted(set(data.rights) - set(RIGHTS))
    if unknown:
        errors["rights"] = f"There is no right {', '.join(repr(r) for r in unknown)}."
    return normalise(data.rights)


def create_role(session: Session, name: str, data: RoleData) -> Role:
    """A new role. Roles are never renamed: users, groups and the audit log name them."""
    name = name.strip()
    errors: dict[str, str] = {}
    if not ROLE_NAME.match(name):
        errors["name"] = (
            "Start with a letter a-z; use a-z, digits, '_' and '-' (at most 64 characters)."
        )
    elif session.scalar(select(Role.id).where(func.lower(Role.name) == name.lower())) is not None:
        errors["name"] = f"There is a role '{name}' already."
    rights = _check(data, errors)
    if errors:
        raise AccountInvalid(errors)
    role = Role(name=name, description=data.description.strip(), rights=rights, builtin=False)
    session.add(role)
    session.flush()
    return role


def update_role(session: Session, role: Role, data: RoleData, *, acting: User) -> Role:
    """Change a role's description and rights; an admin cannot take ``admin`` from
    themselves this way."""
    errors: dict[str, str] = {}
    rights = _check(data, errors)
    if ADMIN not in union(*_others(acting, role), rights if _holds_role(acting, role) else []):
        errors["rights"] = "You cannot remove your own admin rights."
    if errors:
        raise AccountInvalid(errors)
    role.description = data.description.strip()
    role.rights = rights
    session.flush()
    return role


def _others(user: User, role: Role) -> list[list[str]]:
    """The rights the user holds through roles other than ``role``."""
    held = [r.rights or [] for r in user.roles if r.id != role.id]
    return held + [r.rights or [] for g in user.groups for r in g.roles if r.id != role.id]


def _holds_role(user: User, role: Role) -> bool:
    return any(r.id == role.id for r in [*user.roles, *(r for g in user.groups for r in g.roles)])


def delete_role(session: Session, role: Role, *, acting: User) -> None:
    """Remove an admin's role (its users and groups lose it); shipped roles stay, and an
    admin cannot delete the role their own admin rights come from."""
    if role.builtin or role.name in SHIPPED_ROLES:
        raise AccountInvalid({"name": "A role Tempodesk ships cannot be deleted."})
    if ADMIN not in union(*_others(acting, role)):
        raise AccountInvalid({"name": "You cannot remove your own admin rights."})
    session.delete(role)
    session.flush()


def acting_groups(user: User) -> list[str]:
    """The groups the user acts in: their own, and every group under one they supervise."""
    names = {g.name for g in user.groups}
    for group in user.supervises:
        names.update(sub.name for sub in group.descendants())
    return sorted(names)
