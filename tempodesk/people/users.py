"""Agents, admins and groups as admins manage them: validated creates and updates.

Rights in Tempodesk follow from what is kept here: a user's roles and groups, a group's roles,
parent group and supervisor (``tempodesk.people.roles`` says what they come to; process
definitions name groups in ``visible_to`` and per action). Every function checks its whole
input first and raises ``AccountInvalid`` with a readable message per field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from statemachines.rights import ADMIN, DEFAULT_ROLE, union
from tempodesk.core.models import Group, Role, User
from tempodesk.core.models.people import MAX_GROUP_DEPTH
from tempodesk.messaging.templates import LANGUAGES
from tempodesk.people import accounts
from tempodesk.people.addresses import is_valid_email, normalize_email
from tempodesk.people.common import AccountInvalid
from tempodesk.people.roles import find_roles

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
GROUP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200


EXTENSION = re.compile(r"^[0-9*#+]{1,32}$")


__all__ = ["DEFAULT_ROLE", "AccountInvalid", "UserData"]


@dataclass
class UserData:
    """What an admin may set on a user (never the username of an existing one)."""

    display_name: str = ""
    email: str = ""
    password: str = ""  # empty on an update: keep the current one
    # The user's roles; None: a new user's are the default role's, an update keeps them.
    roles: list[str] | None = None
    is_admin: bool = False  # the role "admin" besides ``roles`` (the form's old checkbox)
    is_active: bool = True
    groups: list[str] = field(default_factory=list)
    language: str = "en"
    extension: str = ""  # the agent's phone extension (telephony); empty: none


def all_users(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).options(selectinload(User.groups)).order_by(User.username))
    )


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(
        select(User).where(User.username == username).options(selectinload(User.groups))
    )


def all_groups(session: Session) -> list[Group]:
    return list(
        session.scalars(select(Group).options(selectinload(Group.members)).order_by(Group.name))
    )


def get_group(session: Session, name: str) -> Group | None:
    return session.scalar(
        select(Group).where(Group.name == name).options(selectinload(Group.members))
    )


def create_user(session: Session, username: str, data: UserData) -> User:
    """A new user; the password is required and hashed."""
    username = username.strip()
    errors: dict[str, str] = {}
    if not USERNAME.match(username):
        errors["username"] = "Use a-z, 0-9, '.', '_' and '-' (at most 64 characters)."
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = f"The username '{username}' is taken."
    if not data.password:
        errors["password"] = f"Enter a password of at least {MIN_PASSWORD} characters."
    groups = _check_user_data(session, data, errors)
    roles = _wanted_roles(session, data, [DEFAULT_ROLE], errors)
    if errors:
        raise AccountInvalid(errors)
    user = accounts.create_user(
        session,
        username,
        data.password,
        display_name=data.display_name.strip(),
        email=normalize_email(data.email),
    )
    user.groups = groups
    user.roles = roles
    user.language = data.language
    user.extension = data.extension.strip() or None
    user.is_active = data.is_active
    session.flush()
    return user


def update_user(session: Session, user: User, data: UserData, *, acting: User) -> User:
    """Change a user; an admin can neither demote nor deactivate themselves."""
    errors: dict[str, str] = {}
    groups = _check_user_data(session, data, errors, user_id=user.id)
    current = [r.name for r in user.roles if r.name != ADMIN]  # the admin box says that one
    roles = _wanted_roles(session, data, current, errors)
    if user.id == acting.id:
        rights = union(
            *[r.rights or [] for r in roles], *[r.rights for g in groups for r in g.roles]
        )
        if ADMIN not in rights:
            errors["is_admin"] = "You cannot remove your own admin rights."
        if not data.is_active:
            errors["is_active"] = "You cannot deactivate yourself."
    if errors:
        raise AccountInvalid(errors)
    user.display_name = data.display_name.strip()
    user.email = normalize_email(data.email)
    user.roles = roles
    user.is_active = data.is_active
    user.language = data.language
    user.extension = data.extension.strip() or None
    user.groups = groups
    if data.password:
        accounts.set_password(user, data.password)
    session.flush()
    return user


def update_profile(
    session: Session,
    user: User,
    *,
    display_name: str,
    language: str,
    languages: Sequence[str] = LANGUAGES,
) -> User:
    """What every user may change about themselves: the name shown and the desk's language
    (one of ``languages``: the helpdesk's enabled ones)."""
    errors: dict[str, str] = {}
    if len(display_name.strip()) > 200:
        errors["display_name"] = "At most 200 characters."
    if language not in languages:
        errors["language"] = f"Use one of: {', '.join(languages)}."
    if errors:
        raise AccountInvalid(errors)
    user.display_name = display_name.strip()
    user.language = language
    session.flush()
    return user


def _wanted_roles(
    session: Session, data: UserData, otherwise: list[str], errors: dict[str, str]
) -> list[Role]:
    """The roles the form asks for (``otherwise`` when it names none), plus "admin" if the
    admin box is ticked."""
    names = list(otherwise if data.roles is None else data.roles)
    if data.is_admin:
        names.append(ADMIN)
    return find_roles(session, names, errors, "roles")


def _check_user_data(
    session: Session, data: UserData, errors: dict[str, str], user_id: int | None = None
) -> list[Group]:
    extension = data.extension.strip()
    if extension and not EXTENSION.match(extension):
        errors["extension"] = "Use digits, *, # or + (at most 32), e.g. 101."
    elif extension and session.scalar(
        select(User.username).where(User.extension == extension, User.id != (user_id or 0))
    ):
        errors["extension"] = f"The extension {extension} is another agent's."
    if len(data.display_name.strip()) > 200:
        errors["display_name"] = "At most 200 characters."
    email = normalize_email(data.email)
    if email and not is_valid_email(email):
        errors["email"] = "Enter a valid email address (or leave it empty)."
    if data.password and not MIN_PASSWORD <= len(data.password) <= MAX_PASSWORD:
        errors["password"] = (
            f"A password has at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})."
        )
    if data.language not in LANGUAGES:
        errors["language"] = f"Use one of: {', '.join(LANGUAGES)}."
    wanted = sorted(set(data.groups))
    groups = list(session.scalars(select(Group).where(Group.name.in_(wanted)))) if wanted else []
    unknown = sorted(set(wanted) - {g.name for g in groups})
    if unknown:
        errors["groups"] = f"There is no group {', '.join(repr(n) for n in unknown)}."
    return groups


def create_group(session: Session, name: str, description: str) -> Group:
    """A new group. Groups are never renamed: process definitions refer to them by name."""
    name = name.strip()
    description = description.strip()
    errors: dict[str, str] = {}
    if not GROUP_NAME.match(name):
        errors["name"] = (
            "Start with a letter; use letters, digits, '_' and '-' (at most 64 characters)."
        )
    elif session.scalar(select(Group.id).where(func.lower(Group.name) == name.lower())) is not None:
        errors["name"] = f"There is a group '{name}' already."
    if len(description) > 255:
        errors["description"] = "At most 255 characters."
    if errors:
        raise AccountInvalid(errors)
    group = Group(name=name, description=description)
    session.add(group)
    session.flush()
    return group


def update_group(
    session: Session,
    group: Group,
    *,
    description: str,
    supervisor: str,
    members: list[str],
    parent: str | None = None,
    roles: list[str] | None = None,
) -> Group:
    """Change a group's description, supervisor (an active user or none), members, parent
    group (none, or a group not under this one, at most MAX_GROUP_DEPTH deep) and roles
    (``None``: parent and roles stay as they are)."""
    description = description.strip()
    supervisor = supervisor.strip()
    errors: dict[str, str] = {}
    above = group.parent if parent is None else _parent(session, group, parent.strip(), errors)
    chosen = group.roles if roles is None else find_roles(session, roles, errors, "roles")
    if len(description) > 255:
        errors["description"] = "At most 255 characters."
    if supervisor:
        chief = session.scalar(select(User).where(User.username == supervisor))
        if chief is None or not chief.is_active:
            errors["supervisor"] = f"There is no active user '{supervisor}'."
    wanted = sorted(set(members))
    users = list(session.scalars(select(User).where(User.username.in_(wanted)))) if wanted else []
    unknown = sorted(set(wanted) - {u.username for u in users})
    if unknown:
        errors["members"] = f"There is no user {', '.join(repr(n) for n in unknown)}."
    if errors:
        raise AccountInvalid(errors)
    group.description = description
    group.supervisor = supervisor or None
    group.members = users
    group.parent = above
    group.roles = list(chosen)
    session.flush()
    return group


def _parent(session: Session, group: Group, name: str, errors: dict[str, str]) -> Group | None:
    """The parent group named, if it makes no cycle and no tree deeper than the limit."""
    if not name:
        return None
    parent = session.scalar(select(Group).where(Group.name == name))
    if parent is None:
        errors["parent"] = f"There is no group '{name}'."
        return None
    ancestors: list[Group] = []
    above: Group | None = parent
    while above is not None and len(ancestors) <= MAX_GROUP_DEPTH:
        if above.id == group.id:
            errors["parent"] = f"'{name}' is {group.name} or a group under it: that makes a cycle."
            return None
        ancestors.append(above)
        above = above.parent
    if len(ancestors) + _height(group) > MAX_GROUP_DEPTH:
        errors["parent"] = f"Groups nest at most {MAX_GROUP_DEPTH + 1} levels deep."
        return None
    return parent


def _height(group: Group) -> int:
    """How many levels of groups are under this one."""
    level, height = list(group.children), 0
    while level and height <= MAX_GROUP_DEPTH:
        height += 1
        level = [child for g in level for child in g.children]
    return height
