"""Contacts: created and edited by agents (validated, every problem per field), found the one
way intake links them (``find_contact``), and their account owners.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tempodesk.core import limits
from tempodesk.core.models import Contact, ContactChange, Order, Organisation
from tempodesk.messaging.templates import LANGUAGES
from tempodesk.people.addresses import (
    base_address,
    is_valid_email,
    normalize_email,
    normalize_phone,
)
from tempodesk.people.common import CustomerInvalid, Paged, agent_exists, like_pattern, paged


@dataclass
class ContactData:
    """What an agent sets on a contact."""

    name: str = ""
    email: str = ""
    phone: str = ""
    organisation_id: int | None = None
    account_owner: str = ""
    language: str = "en"


def contact_data(contact: Contact) -> ContactData:
    return ContactData(
        name=contact.name,
        email=contact.email or "",
        phone=contact.phone or "",
        organisation_id=contact.organisation_id,
        account_owner=contact.account_owner or "",
        language=contact.language,
    )


def check_contact(
    session: Session, data: ContactData, contact_id: int | None = None
) -> tuple[ContactData, dict[str, str]]:
    """The input normalised, and every problem per field."""
    name = " ".join(data.name.split())
    email = normalize_email(data.email)
    phone = normalize_phone(data.phone)
    errors = limits.check(
        {
            "name": (name, Contact.name),
            "email": (email, Contact.email),
            "phone": (phone, Contact.phone),
        }
    )
    if email and not is_valid_email(email):
        errors["email"] = "Enter a valid email address."
    elif email:
        other = session.scalar(select(Contact.id).where(Contact.email == email))
        if other is not None and other != contact_id:
            errors["email"] = "Another contact has this email address (merge them instead)."
    if data.phone.strip() and not phone:
        errors["phone"] = "Enter a valid phone number."
    if not email and not phone and "email" not in errors and "phone" not in errors:
        errors["email"] = "Enter an email address or a phone number."
    if data.organisation_id is not None and session.get(Organisation, data.organisation_id) is None:
        errors["organisation_id"] = "There is no such organisation."
    if data.account_owner and not agent_exists(session, data.account_owner):
        errors["account_owner"] = f"There is no active agent '{data.account_owner}'."
    if data.language not in LANGUAGES:
        errors["language"] = f"Use one of {', '.join(LANGUAGES)}."
    clean = ContactData(
        name=name,
        email=email,
        phone=phone,
        organisation_id=data.organisation_id,
        account_owner=data.account_owner,
        language=data.language,
    )
    return clean, errors


def save_contact(
    session: Session, data: ContactData, contact: Contact | None = None, *, by: str = ""
) -> Contact:
    """Create or update a contact; CustomerInvalid with every problem if the input is bad.
    Each field an edit changes is recorded on the contact's history, with who (``by``)."""
    clean, errors = check_contact(session, data, contact.id if contact else None)
    if errors:
        raise CustomerInvalid(errors)
    if contact is None:
        contact = Contact()
        session.add(contact)
    else:
        _record_changes(session, contact, clean, by)
    contact.name = clean.name
    contact.email = clean.email or None
    contact.phone = clean.phone or None
    contact.organisation_id = clean.organisation_id
    contact.account_owner = clean.account_owner or None
    contact.language = clean.language
    session.flush()
    return contact


def _record_changes(session: Session, contact: Contact, clean: ContactData, by: str) -> None:
    before, after = contact_data(contact), clean
    for field in ("name", "email", "phone", "organisation_id", "account_owner", "language"):
        old, new = getattr(before, field), getattr(after, field)
        if (old or None) == (new or None):
            continue
        if field == "organisation_id":
            field, old, new = "organisation", _org_name(session, old), _org_name(session, new)
        session.add(
            ContactChange(
                contact_id=contact.id,
                changed_by=by,
                field=field,
                old_value=str(old or ""),
                new_value=str(new or ""),
            )
        )


def _org_name(session: Session, organisation_id: int | None) -> str:
    found = session.get(Organisation, organisation_id) if organisation_id is not None else None
    return found.name if found is not None else ""


def contact_history(session: Session, contact_id: int) -> list[ContactChange]:
    """The contact's changes, newest first."""
    return list(
        session.scalars(
            select(ContactChange)
            .where(ContactChange.contact_id == contact_id)
            .order_by(ContactChange.changed_at.desc(), ContactChange.id.desc())
        )
    )


def search_contacts(
    session: Session, query: str, page: int = 1, within: ColumnElement[bool] | None = None
) -> Paged[Contact]:
    """Contacts whose name, email or phone contain the query, by name (only those ``within``
    holds for: the agent's scope, ``tempodesk.tickets.customer_scope``)."""
    stmt = select(Contact).options(selectinload(Contact.organisation))
    if within is not None:
        stmt = stmt.where(within)
    query = query.strip()
    if query:
        clauses = [
            func.lower(Contact.name).like(like_pattern(query), escape="\\"),
            func.lower(Contact.email).like(like_pattern(query), escape="\\"),
        ]
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 3:
            clauses.append(Contact.phone.like(f"%{digits}%"))
        stmt = stmt.where(or_(*clauses))
    return paged(session, stmt.order_by(Contact.name, Contact.id), page)


def find_contact(session: Session, email: str, phone: str) -> Contact | None:
    """Who a customer writing from this email (else calling from this phone) is: the one
    lookup behind linking a ticket, the new-ticket preview, orders from the shop and mail.

    Addresses are stored normalised (lower case), so the match ignores case; a plus tag is
    ignored when nobody has the tagged address (``jana+shop@`` is ``jana@``); then the first
    contact with this phone number."""
    email, phone = normalize_email(email), normalize_phone(phone)
    contact = None
    if email:
        contact = session.scalar(select(Contact).where(Contact.email == email))
        base = base_address(email)
        if contact is None and base != email:
            contact = session.scalar(select(Contact).where(Contact.email == base))
    if contact is None and phone:
        contact = session.scalar(
            select(Contact).where(Contact.phone == phone).order_by(Contact.id).limit(1)
        )
    return contact


def find_or_create_contact(
    session: Session,
    email: str,
    phone: str,
    name: str,
    *,
    create: bool = True,
    language: str = "",
) -> Contact | None:
    """``find_contact``, else (with ``create``) a new contact (speaking ``language``, if given);
    a found one gets the name and phone it lacked. Safe when the same new customer arrives
    twice at once."""
    email, phone, name = normalize_email(email), normalize_phone(phone), name.strip()
    contact = find_contact(session, email, phone)
    if contact is None and (email or phone) and create:
        try:
            with session.begin_nested():
                contact = Contact(email=email or None, phone=phone or None, name=name)
                if language in LANGUAGES:
                    contact.language = language
                session.add(contact)
        except IntegrityError:  # created concurrently by the other request
            contact = find_contact(session, email, phone)
    if contact is not None:
        if name and not contact.name:
            contact.name = name
        if phone and not contact.phone:
            contact.phone = phone
        session.flush()
    return contact


def get_contact(session: Session, contact_id: int) -> Contact | None:
    return session.scalar(
        select(Contact).where(Contact.id == contact_id).options(selectinload(Contact.organisation))
    )


def orders_of(session: Session, contact_id: int) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(Order.contact_id == contact_id)
            .order_by(Order.placed_at.desc().nulls_last(), Order.id.desc())
        )
    )


def account_owners(contact: Contact | None) -> list[str]:
    """Who looks after this customer, first first: the contact's own account owner, then
    their organisation's. The one rule behind the customer panel and assignment."""
    if contact is None:
        return []
    organisation = contact.organisation
    owners = [contact.account_owner, organisation.account_owner if organisation else None]
    return [owner for owner in owners if owner]


def account_owner(contact: Contact | None) -> str:
    """The customer's account owner as the desk shows it (``account_owners``, the first)."""
    return next(iter(account_owners(contact)), "")


def merge_candidates(session: Session, contact: Contact, query: str = "") -> list[Contact]:
    """Contacts that may be duplicates of this one: the search, else same name or phone."""
    if query.strip():
        found = search_contacts(session, query).items
    else:
        clauses = []
        if contact.name:
            clauses.append(func.lower(Contact.name) == contact.name.lower())
        if contact.phone:
            clauses.append(Contact.phone == contact.phone)
        if contact.email:
            local = contact.email.split("@")[0].split("+")[0]
            clauses.append(func.lower(Contact.email).like(like_pattern(local), escape="\\"))
        found = (
            list(session.scalars(select(Contact).where(or_(*clauses)).limit(50))) if clauses else []
        )
    return [c for c in found if c.id != contact.id]


def contact_label(contact: Contact) -> str:
    return contact.name or contact.email or contact.phone or f"#{contact.id}"


def save_preferences(
    session: Session, contact: Contact, *, name: str, language: str, non_essential_mail: bool
) -> dict[str, str]:
    """The customer's own changes from the portal's profile (never the address); every
    problem per field, nothing changed when there is one."""
    name = " ".join(name.split())
    errors = limits.check({"name": (name, Contact.name), "language": (language, Contact.language)})
    if errors:
        return errors
    # On the contact's history like an agent's edit; "customer" says who (not a username).
    wanted = {"name": name, "language": language, "non_essential_mail": non_essential_mail}
    for field, new in wanted.items():
        old = getattr(contact, field)
        if (old or None) != (new or None):
            session.add(
                ContactChange(
                    contact_id=contact.id,
                    changed_by="customer (portal)",
                    field=field,
                    old_value="" if old is None else str(old),
                    new_value=str(new),
                )
            )
        setattr(contact, field, new)
    session.flush()
    return {}
