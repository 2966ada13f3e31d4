"""Organisations: the companies contacts belong to, with an account owner."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tempodesk.core.models import Contact, Organisation
from tempodesk.people.common import PAGE_SIZE, CustomerInvalid, Paged, agent_exists, like_pattern


@dataclass
class OrganisationData:
    name: str = ""
    account_owner: str = ""
    # Its members see each other's requests in the portal; None: left as it is (the editor
    # may not change it).
    portal_shared: bool | None = None


def save_organisation(
    session: Session, data: OrganisationData, organisation: Organisation | None = None
) -> Organisation:
    """Create or update an organisation; CustomerInvalid with every problem if bad."""
    errors: dict[str, str] = {}
    name = " ".join(data.name.split())
    if not name:
        errors["name"] = "Enter a name."
    elif len(name) > 200:
        errors["name"] = "At most 200 characters."
    else:
        other = session.scalar(select(Organisation.id).where(Organisation.name == name))
        if other is not None and (organisation is None or other != organisation.id):
            errors["name"] = "There is an organisation with this name already."
    if data.account_owner and not agent_exists(session, data.account_owner):
        errors["account_owner"] = f"There is no active agent '{data.account_owner}'."
    if errors:
        raise CustomerInvalid(errors)
    if organisation is None:
        organisation = Organisation(name=name)
        session.add(organisation)
    organisation.name = name
    organisation.account_owner = data.account_owner or None
    if data.portal_shared is not None:
        organisation.portal_shared = data.portal_shared
    session.flush()
    return organisation


def search_organisations(
    session: Session,
    query: str,
    page: int = 1,
    within: ColumnElement[bool] | None = None,
    members_within: ColumnElement[bool] | None = None,
) -> Paged[tuple[Organisation, int]]:
    """Organisations (with their number of contacts) whose name contains the query; only
    those ``within`` holds for, counting only the contacts ``members_within`` holds for."""
    count = select(func.count(Contact.id)).where(Contact.organisation_id == Organisation.id)
    if members_within is not None:
        count = count.where(members_within)
    stmt = select(Organisation, count.scalar_subquery()).order_by(Organisation.name)
    if within is not None:
        stmt = stmt.where(within)
    if query.strip():
        stmt = stmt.where(
            func.lower(Organisation.name).like(like_pattern(query.strip()), escape="\\")
        )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = [
        (org, count or 0)
        for org, count in session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    ]
    return Paged(rows, page, pages, total)


def all_organisations(
    session: Session, within: ColumnElement[bool] | None = None
) -> list[Organisation]:
    stmt = select(Organisation).order_by(Organisation.name)
    return list(session.scalars(stmt if within is None else stmt.where(within)))


def members_of(
    session: Session, organisation_id: int, within: ColumnElement[bool] | None = None
) -> list[Contact]:
    stmt = select(Contact).where(Contact.organisation_id == organisation_id)
    if within is not None:
        stmt = stmt.where(within)
    return list(session.scalars(stmt.order_by(Contact.name, Contact.id)))
