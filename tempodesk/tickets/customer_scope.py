"""Which customers an agent may see: contacts, organisations and orders are visible through
the tickets the agent may see (``queries.visible_tickets``), or all of them with the right
``manage_customers`` (a role's: the demo's group ``CUSTOMERS_GROUP`` carries the role
"customers"; admins hold every right).

Each ``*_clause`` is a WHERE clause for the people room's lists and look-ups (None: no limit),
so a page, a search, a look-up and the API all ask the same question.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from statemachines.rights import MANAGE_CUSTOMERS, holds
from tempodesk.contracts import Actor
from tempodesk.core.models import Contact, Order, Organisation, Ticket
from tempodesk.tickets.queries import visible_tickets

#: The demo's group whose members see (and may merge, import and upsert) every customer.
CUSTOMERS_GROUP = "Customers"


def sees_all_customers(actor: Actor) -> bool:
    """The right ``manage_customers``."""
    return actor.is_admin or holds(actor, MANAGE_CUSTOMERS)


def _ticket_contacts(session: Session, actor: Actor) -> Select[Any]:
    return (
        visible_tickets(session, actor)
        .where(Ticket.contact_id.is_not(None))
        .with_only_columns(Ticket.contact_id)
    )


def contacts_clause(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    if sees_all_customers(actor):
        return None
    return Contact.id.in_(_ticket_contacts(session, actor))


def organisations_clause(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    if sees_all_customers(actor):
        return None
    members = select(Contact.organisation_id).where(
        Contact.id.in_(_ticket_contacts(session, actor))
    )
    return Organisation.id.in_(members)


def orders_clause(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """An order on a visible ticket, or of a visible ticket's customer."""
    if sees_all_customers(actor):
        return None
    on_tickets = (
        visible_tickets(session, actor)
        .where(Ticket.order_id.is_not(None))
        .with_only_columns(Ticket.order_id)
    )
    return or_(Order.id.in_(on_tickets), Order.contact_id.in_(_ticket_contacts(session, actor)))


def may_see_contact(session: Session, actor: Actor, contact_id: int) -> bool:
    return _may_see(session, Contact.id, contact_id, contacts_clause(session, actor))


def may_see_organisation(session: Session, actor: Actor, organisation_id: int) -> bool:
    return _may_see(session, Organisation.id, organisation_id, organisations_clause(session, actor))


def may_see_order(session: Session, actor: Actor, order_id: int) -> bool:
    return _may_see(session, Order.id, order_id, orders_clause(session, actor))


def _may_see(session: Session, column: Any, value: int, clause: ColumnElement[bool] | None) -> bool:
    if clause is None:
        return True
    return session.scalar(select(column).where(column == value).where(clause)) is not None
