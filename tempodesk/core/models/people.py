"""People: the agents who sign in (users, groups, API tokens) and the customers (organisations,
contacts, each contact's history of changes) with their orders.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statemachines.rights import ADMIN, union

from .base import Base, utcnow

#: How deep groups nest: a group has at most this many levels of groups above it.
MAX_GROUP_DEPTH = 4


class User(Base):
    """An agent or admin who signs in to the desk."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    # The second factor's secret, sealed (tempodesk.core.vault); empty: none.
    totp_secret: Mapped[str] = mapped_column(String(255), default="", server_default="")
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The agent's phone extension: click-to-call rings it first; incoming calls to it pop up.
    extension: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Loaded with the user (and each group's roles with the group), so a user's rights read
    # the same after the request's session let the objects go.
    groups: Mapped[list[Group]] = relationship(
        secondary="memberships", back_populates="members", order_by="Group.name", lazy="selectin"
    )
    roles: Mapped[list[Role]] = relationship(
        secondary="user_roles", order_by="Role.name", lazy="selectin"
    )
    # The groups this user supervises (``Group.supervisor``).
    supervises: Mapped[list[Group]] = relationship(
        primaryjoin="User.username == Group.supervisor",
        foreign_keys="Group.supervisor",
        viewonly=True,
        order_by="Group.name",
        lazy="selectin",
    )

    @property
    def rights(self) -> list[str]:
        """The union of the user's roles' and their groups' roles' rights."""
        held = [role.rights or [] for role in self.roles]
        held += [role.rights or [] for group in self.groups for role in group.roles]
        return union(*held)

    @property
    def is_admin(self) -> bool:
        """Holds the right ``admin`` (the shipped role "admin", or any role carrying it)."""
        return ADMIN in self.rights

    @property
    def role_names(self) -> list[str]:
        return [role.name for role in self.roles]

    # What Flask-Login expects of a user (is_active is the column above).
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """What the session and the remember-me cookie hold: the id and a fragment of the
        credentials, so that a new password ends every earlier sign-in."""
        return f"{self.id}.{self.auth_epoch}"

    @property
    def auth_epoch(self) -> str:
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        return self.display_name or self.username


class Group(Base):
    """A team of agents (e.g. "Support", "Billing"): a queue to assign to and a unit of rights."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    # Who gets the "supervisor" copies of templates sent about this group's tickets.
    supervisor: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="SET NULL"), default=None
    )

    # The group this one is part of (a team within a department); no cycles, at most
    # MAX_GROUP_DEPTH levels (tempodesk.people.users checks both).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), default=None
    )

    members: Mapped[list[User]] = relationship(
        secondary="memberships", back_populates="groups", order_by="User.username"
    )
    roles: Mapped[list[Role]] = relationship(
        secondary="group_roles", order_by="Role.name", lazy="selectin"
    )
    parent: Mapped[Group | None] = relationship(remote_side="Group.id", back_populates="children")
    children: Mapped[list[Group]] = relationship(
        back_populates="parent", order_by="Group.name", lazy="selectin", join_depth=MAX_GROUP_DEPTH
    )

    @property
    def role_names(self) -> list[str]:
        return [role.name for role in self.roles]

    @property
    def parent_name(self) -> str:
        return self.parent.name if self.parent is not None else ""

    def descendants(self) -> list[Group]:
        """Every group under this one (children first), at most MAX_GROUP_DEPTH levels down."""
        found: list[Group] = []
        level = list(self.children)
        for _ in range(MAX_GROUP_DEPTH):
            found += level
            level = [child for group in level for child in group.children]
        return found


class Role(Base):
    """A named set of rights (``statemachines.rights.RIGHTS``) given to users and groups."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    rights: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Shipped with Tempodesk (agent, supervisor, admin, read-only): never deleted or renamed.
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )


class GroupRole(Base):
    __tablename__ = "group_roles"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(Base):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated rights: "api" (the ticket API as its user), "inbound" (post raw mail).
    scopes: Mapped[str] = mapped_column(String(100), default="api", server_default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class PortalLink(Base):
    """A one-time sign-in link to the customer portal, mailed to a contact: only the token's
    SHA-256 is kept; spent (``used_at``) at its first use, or dead after ``expires_at``."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    account_owner: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="SET NULL"), default=None
    )
    # True: its members see each other's requests in the portal (read only).
    portal_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A name from the customer types (``CustomerType``); its contacts inherit it.
    customer_type: Mapped[str | None] = mapped_column(String(40), default=None)


class Contact(Base):
    """A customer. Email addresses are stored lower-cased; phones as digits with a leading +."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True, default=None)
    phone: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), default=None
    )
    account_owner: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="SET NULL"), default=None
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    # False: the customer refused non-essential mail (templates not marked essential).
    non_essential_mail: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The portal password's hash (werkzeug's scrypt, as agents'); empty: sign-in by link only.
    password_hash: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # A permanent delivery failure (RFC 3464 bounce) to this address.
    bounced_at: Mapped[datetime | None] = mapped_column(default=None)
    bounce_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A name from the customer types; None: the organisation's (if any).
    customer_type: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()


class ContactChange(Base):
    """One field of a contact changed by an agent: who, when, old → new (the contact's
    history, shown on its page)."""

    __tablename__ = "contact_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64), default="")  # a username, kept if gone
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")


class Order(Base):
    """An order from the shop (which lives elsewhere), imported so tickets can link to it."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True, default=None
    )
    placed_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(40), default="")
    total: Mapped[str] = mapped_column(String(40), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    contact: Mapped[Contact | None] = relationship()
