"""Organisations: the companies contacts belong to, with an account owner."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tempodesk.core.models import Contact, Organisation
from tempodesk.people.common import PAGE_SIZE, CustomerInvalid, Paged, agent_exists, like_pattern


@dataclass
class OrganisationData:
    name: str = ""
    account_owner: str = ""


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
    session.flush()
    return organisation


def search_organisations(
    session: Session, query: str, page: int = 1
) -> Paged[tuple[Organisation, int]]:
    """Organisations (with their number of contacts) whose name contains the query."""
    members = (
        select(func.count(Contact.id))
        .where(Contact.organisation_id == Organisation.id)
        .scalar_subquery()
    )
    stmt = select(Organisation, members).order_by(Organisation.name)
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


def all_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def members_of(session: Session, organisation_id: int) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.organisation_id == organisation_id)
            .order_by(Contact.name, Contact.id)
        )
    )
