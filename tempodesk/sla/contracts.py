"""Customer types and contracts: which type a customer is (a contact's own, else its
organisation's), the contracts valid on a day, and contracts as the API and the desk save
them (checked with every problem keyed like the JSON: ``entitlements[1].unit``).

A contract belongs to a contact or to an organisation (then to every contact of it). Its
entitlements are upserted by name, so what tickets already used of one stays counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tempodesk.core.models import (
    Contact,
    Contract,
    CustomerType,
    Entitlement,
    Organisation,
    SlaPolicy,
    Ticket,
)
from tempodesk.people.addresses import is_valid_email, normalize_email
from tempodesk.people.common import CustomerInvalid
from tempodesk.people.contacts import find_or_create_contact

UNITS = ("cases", "hours")
COUNTS_ON = ("open", "resolve")
ON_EXHAUSTED = ("warn", "block")
ENTITLEMENT_CHANNELS = ("api", "web", "email", "phone", "walk_in", "sms")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TYPE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


# Customer types


def customer_types(session: Session) -> list[CustomerType]:
    return list(session.scalars(select(CustomerType).order_by(CustomerType.name)))


def save_customer_type(session: Session, name: str, label: str = "") -> CustomerType:
    """Create (or relabel) a customer type; CustomerInvalid if the name is not a slug."""
    name = name.strip().lower()
    if not _TYPE_NAME.match(name):
        raise CustomerInvalid({"name": "Use 1-40 lower-case letters, digits, - and _."})
    row = session.scalar(select(CustomerType).where(CustomerType.name == name))
    if row is None:
        row = CustomerType(name=name)
        session.add(row)
    row.label = " ".join(label.split())[:100] or name
    session.flush()
    return row


def check_customer_type(session: Session, name: str) -> str | None:
    """The type's name if admins listed it ("" and None: none); CustomerInvalid if unknown."""
    name = (name or "").strip()
    if not name:
        return None
    if session.scalar(select(CustomerType.id).where(CustomerType.name == name)) is None:
        raise CustomerInvalid({"customer_type": f"There is no customer type '{name[:40]}'."})
    return name


def customer_type_of(contact: Contact | None) -> str | None:
    """The contact's type, else its organisation's (None: neither has one)."""
    if contact is None:
        return None
    if contact.customer_type:
        return contact.customer_type
    return contact.organisation.customer_type if contact.organisation else None


# Contracts valid on a day


def valid_on(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def contracts_of(session: Session, contact: Contact | None, day: date) -> list[Contract]:
    """The contact's and its organisation's contracts valid on ``day``: the contact's own
    first, then the newest by start."""
    if contact is None:
        return []
    holders = [Contract.contact_id == contact.id]
    if contact.organisation_id is not None:
        holders.append(Contract.organisation_id == contact.organisation_id)
    rows = session.scalars(
        select(Contract)
        .where(or_(*holders))
        .order_by(Contract.contact_id.is_(None), Contract.valid_from.desc(), Contract.id)
    )
    return [c for c in rows if valid_on(day, c.valid_from, c.valid_until)]


def contracts_held(
    session: Session, *, contact_id: int | None = None, organisation_id: int | None = None
) -> list[Contract]:
    """Every contract of a contact or of an organisation (the desk's panel), newest first."""
    where = (
        Contract.contact_id == contact_id
        if contact_id is not None
        else Contract.organisation_id == organisation_id
    )
    return list(session.scalars(select(Contract).where(where).order_by(Contract.valid_from.desc())))


def entitlements_of(session: Session, contract_id: int) -> list[Entitlement]:
    return list(
        session.scalars(
            select(Entitlement)
            .where(Entitlement.contract_id == contract_id)
            .order_by(Entitlement.id)
        )
    )


# Contracts as the API sends them (the desk's form builds the same shape)


@dataclass
class EntitlementData:
    name: str
    unit: str = "cases"
    allocation: int = 0
    channels: list[str] = field(default_factory=list)
    valid_from: date | None = None
    valid_until: date | None = None
    counts_on: str = "open"
    on_exhausted: str = "warn"


@dataclass
class ContractData:
    reference: str
    name: str = ""
    customer_email: str = ""
    customer_name: str = ""
    organisation: str = ""
    valid_from: date = date(1970, 1, 1)
    valid_until: date | None = None
    policy: str = ""
    customer_type: str | None = None  # None: left as it is
    entitlements: list[EntitlementData] | None = None  # None: left as they are


def _text(raw: dict[str, Any], key: str, errors: dict[str, str], limit: int, at: str = "") -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[at + key] = "Must be text."
        return ""
    text = " ".join(value.split())
    if len(text) > limit:
        errors[at + key] = f"At most {limit} characters."
    return text


def _day(raw: dict[str, Any], key: str, errors: dict[str, str], at: str = "") -> date | None:
    value = raw.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[at + key] = "Use an ISO date, e.g. 2026-01-31."
        return None


def parse_contract(raw: Any, *, holder_given: bool = False) -> ContractData:
    """Check a contract (the API's JSON; the desk's form, ``holder_given`` by the page it is
    on); every problem in CustomerInvalid.errors."""
    if not isinstance(raw, dict):
        raise CustomerInvalid({"contract": "Send the contract as an object."})
    errors: dict[str, str] = {}
    reference = _text(raw, "reference", errors, 64)
    if not reference and "reference" not in errors:
        errors["reference"] = "Give the contract's reference."
    elif reference and not _REFERENCE.match(reference):
        errors["reference"] = "Use letters, digits and . _ - (no spaces)."
    customer = raw.get("customer") or {}
    email = name = ""
    if not isinstance(customer, dict):
        errors["customer"] = "Must be an object with an email and a name."
    else:
        email = normalize_email(_text(customer, "email", errors, 254, "customer."))
        name = _text(customer, "name", errors, 200, "customer.")
        if email and not is_valid_email(email):
            errors["customer.email"] = "Enter a valid email address."
    organisation = _text(raw, "organisation", errors, 200)
    if not holder_given and bool(email) == bool(organisation) and not errors:
        errors["customer"] = "Give either the customer's email or an organisation."
    valid_from = _day(raw, "valid_from", errors)
    if valid_from is None and "valid_from" not in errors:
        errors["valid_from"] = "Give the first day the contract is valid."
    valid_until = _day(raw, "valid_until", errors)
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = "Must not be before valid_from."
    customer_type = raw.get("customer_type")
    if customer_type is not None and not isinstance(customer_type, str):
        errors["customer_type"] = "Must be text."
    entitlements = None
    if "entitlements" in raw:
        entitlements = _parse_entitlements(raw.get("entitlements"), errors)
    if errors:
        raise CustomerInvalid(errors)
    return ContractData(
        reference=reference,
        name=_text(raw, "name", errors, 200) or reference,
        customer_email=email,
        customer_name=name,
        organisation=organisation,
        valid_from=valid_from or date(1970, 1, 1),
        valid_until=valid_until,
        policy=_text(raw, "policy", errors, 100),
        customer_type=customer_type,
        entitlements=entitlements,
    )


def _parse_entitlements(raw: Any, errors: dict[str, str]) -> list[EntitlementData]:
    if not isinstance(raw, list) or len(raw) > 50:
        errors["entitlements"] = "Must be a list of at most 50 entitlements."
        return []
    found: list[EntitlementData] = []
    for index, entry in enumerate(raw):
        at = f"entitlements[{index}]."
        if not isinstance(entry, dict):
            errors[at[:-1]] = "Must be an object."
            continue
        data = parse_entitlement(entry, errors, at)
        if data is not None:
            if any(e.name == data.name for e in found):
                errors[at + "name"] = "Two entitlements have this name."
            found.append(data)
    return found


def parse_entitlement(
    raw: dict[str, Any], errors: dict[str, str], at: str = ""
) -> EntitlementData | None:
    """One entitlement; its problems go to ``errors`` under ``at``."""
    before = len(errors)
    name = _text(raw, "name", errors, 100, at)
    if not name and at + "name" not in errors:
        errors[at + "name"] = "Give the entitlement a name."
    choices = {"unit": UNITS, "counts_on": COUNTS_ON, "on_exhausted": ON_EXHAUSTED}
    chosen = {}
    for key, allowed in choices.items():
        chosen[key] = raw.get(key) or allowed[0]
        if chosen[key] not in allowed:
            errors[at + key] = f"Use one of: {', '.join(allowed)}."
    allocation = raw.get("allocation", 0)
    if isinstance(allocation, str) and allocation.strip().isdigit():
        allocation = int(allocation)
    if (
        isinstance(allocation, bool)
        or not isinstance(allocation, int)
        or not 0 <= allocation <= 10**6
    ):
        errors[at + "allocation"] = "A whole number from 0."
    channels = raw.get("channels") or []
    if not isinstance(channels, list) or any(c not in ENTITLEMENT_CHANNELS for c in channels):
        errors[at + "channels"] = f"A list of: {', '.join(ENTITLEMENT_CHANNELS)}."
    valid_from, valid_until = (
        _day(raw, "valid_from", errors, at),
        _day(raw, "valid_until", errors, at),
    )
    if len(errors) > before:
        return None
    return EntitlementData(
        name, chosen["unit"], int(allocation or 0), list(channels), valid_from, valid_until,
        chosen["counts_on"], chosen["on_exhausted"],
    )  # fmt: skip


def upsert_contract(
    session: Session, data: ContractData, actor: str, holder: Contact | Organisation | None = None
) -> tuple[Contract, bool]:
    """Create or change the contract with this reference; (it, created). CustomerInvalid if
    its policy, customer type or organisation does not exist. ``holder``: the desk's page's
    contact or organisation (else the data's customer or organisation)."""
    errors: dict[str, str] = {}
    row = session.scalar(select(Contract).where(Contract.reference == data.reference))
    if (
        holder is not None
        and row is not None
        and (row.contact_id, row.organisation_id)
        != ((None, holder.id) if isinstance(holder, Organisation) else (holder.id, None))
    ):
        errors["reference"] = "Another customer's contract has this reference."
    policy_id, customer_type = None, None
    if data.policy:
        policy_id = session.scalar(select(SlaPolicy.id).where(SlaPolicy.name == data.policy))
        if policy_id is None:
            errors["policy"] = f"There is no SLA policy '{data.policy}'."
    if holder is None and data.organisation:
        holder = session.scalar(select(Organisation).where(Organisation.name == data.organisation))
        if holder is None:
            errors["organisation"] = f"There is no organisation '{data.organisation}'."
    try:
        customer_type = check_customer_type(session, data.customer_type or "")
    except CustomerInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise CustomerInvalid(errors)
    if holder is None:
        holder = find_or_create_contact(session, data.customer_email, "", data.customer_name)
    if data.customer_type is not None and holder is not None:
        holder.customer_type = customer_type
    created = row is None
    if row is None:
        row = Contract(reference=data.reference)
        session.add(row)
    row.name, row.valid_from, row.valid_until = data.name, data.valid_from, data.valid_until
    row.policy_id, row.updated_by = policy_id, actor
    is_org = isinstance(holder, Organisation)
    row.organisation_id = holder.id if is_org and holder else None
    row.contact_id = holder.id if not is_org and holder else None
    session.flush()
    if data.entitlements is not None:
        _replace_entitlements(session, row, data.entitlements)
    return row, created


def _replace_entitlements(
    session: Session, contract: Contract, wanted: list[EntitlementData]
) -> None:
    existing = {e.name: e for e in entitlements_of(session, contract.id)}
    for data in wanted:
        row = existing.pop(data.name, None) or Entitlement(contract_id=contract.id, name=data.name)
        session.add(row)
        save_entitlement_row(row, data)
    for gone in existing.values():
        session.delete(gone)
    session.flush()


def save_entitlement_row(row: Entitlement, data: EntitlementData) -> None:
    row.name, row.unit, row.allocation = data.name, data.unit, data.allocation
    row.channels, row.counts_on, row.on_exhausted = data.channels, data.counts_on, data.on_exhausted
    row.valid_from, row.valid_until = data.valid_from, data.valid_until


def find_contract(session: Session, reference: str) -> Contract | None:
    return session.scalar(select(Contract).where(Contract.reference == reference))


def open_tickets_of(
    session: Session, *, contact_id: int | None = None, organisation_id: int | None = None
) -> list[str]:
    """The open tickets of a contact, or of every contact of an organisation: those a changed
    contract or customer type may give another policy (each is told, never rewritten)."""
    contacts = (
        select(Contact.id).where(Contact.organisation_id == organisation_id)
        if contact_id is None
        else select(Contact.id).where(Contact.id == contact_id)
    )
    return list(
        session.scalars(
            select(Ticket.number).where(
                Ticket.contact_id.in_(contacts),
                Ticket.state_category.not_in(("closed", "merged")),
            )
        )
    )
