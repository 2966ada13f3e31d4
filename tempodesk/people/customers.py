"""Customers around the tickets: contacts, organisations and orders.

Contacts and organisations are reference data the web writes directly (validated here, every
problem per field). Orders come from the shop, which lives elsewhere: the API upserts them by
number and agents upload CSV exports; a CSV with one bad row imports nothing. Every list of
tickets here goes through ``queries.visible_tickets``: a customer's page never shows a ticket
the agent may not open.

Merging duplicate contacts touches tickets, which only their workflows change: an open
ticket is told by the ``relink_contact`` signal (see ``merge_contacts`` for the one exception).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import CursorResult, Select, func, or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from tempodesk.contracts import Actor, CustomerRef, RelinkContactInput
from tempodesk.core.db import transaction
from tempodesk.core.models import Contact, Message, Order, Organisation, Ticket, User
from tempodesk.core.temporal import TemporalFacade, TicketNotFound
from tempodesk.messaging.templates import LANGUAGES
from tempodesk.people.addresses import is_valid_email, normalize_email, normalize_phone
from tempodesk.tickets import processes, queries
from tempodesk.tickets.intake import CHANNELS, NewTicket

log = logging.getLogger(__name__)

PAGE_SIZE = 25
MAX_MESSAGES = 200  # "all communication" on a contact's page: the newest ones
MAX_ITEMS = 500
MAX_CSV_ROWS = 10_000
CSV_COLUMNS = ("number", "customer_email", "customer_name", "placed_at", "status", "total", "items")
_ORDER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ITEM = re.compile(r"^\s*(\d{1,6})\s*[x\u00d7*]\s*(\S.*?)\s*$", re.IGNORECASE)

T = TypeVar("T")


class CustomerInvalid(ValueError):
    """The input cannot be saved; ``errors`` maps a form field to a readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class Paged(Generic[T]):
    items: list[T]
    page: int
    pages: int
    total: int


def _paged(session: Session, stmt: Select[T], page: int) -> Paged[T]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    items = list(session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Paged(items, page, pages, total)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _agent_exists(session: Session, username: str) -> bool:
    return (
        session.scalar(
            select(User.id).where(User.username == username).where(User.is_active.is_(True))
        )
        is not None
    )


# ------------------------------------------------------------------------------- contacts


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
    errors: dict[str, str] = {}
    name = " ".join(data.name.split())
    email = normalize_email(data.email)
    phone = normalize_phone(data.phone)
    if len(name) > 200:
        errors["name"] = "At most 200 characters."
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
    if data.account_owner and not _agent_exists(session, data.account_owner):
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


def save_contact(session: Session, data: ContactData, contact: Contact | None = None) -> Contact:
    """Create or update a contact; CustomerInvalid with every problem if the input is bad."""
    clean, errors = check_contact(session, data, contact.id if contact else None)
    if errors:
        raise CustomerInvalid(errors)
    if contact is None:
        contact = Contact()
        session.add(contact)
    contact.name = clean.name
    contact.email = clean.email or None
    contact.phone = clean.phone or None
    contact.organisation_id = clean.organisation_id
    contact.account_owner = clean.account_owner or None
    contact.language = clean.language
    session.flush()
    return contact


def search_contacts(session: Session, query: str, page: int = 1) -> Paged[Contact]:
    """Contacts whose name, email or phone contain the query, by name."""
    stmt = select(Contact).options(selectinload(Contact.organisation))
    query = query.strip()
    if query:
        clauses = [
            func.lower(Contact.name).like(_like(query), escape="\\"),
            func.lower(Contact.email).like(_like(query), escape="\\"),
        ]
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 3:
            clauses.append(Contact.phone.like(f"%{digits}%"))
        stmt = stmt.where(or_(*clauses))
    return _paged(session, stmt.order_by(Contact.name, Contact.id), page)


def lookup_contact(session: Session, email: str, phone: str) -> Contact | None:
    """The contact a new ticket with this email (else phone) would be linked to."""
    email, phone = normalize_email(email), normalize_phone(phone)
    contact = None
    if email:
        contact = session.scalar(select(Contact).where(Contact.email == email))
    if contact is None and phone:
        contact = session.scalar(
            select(Contact).where(Contact.phone == phone).order_by(Contact.id).limit(1)
        )
    return contact


def get_contact(session: Session, contact_id: int) -> Contact | None:
    return session.scalar(
        select(Contact).where(Contact.id == contact_id).options(selectinload(Contact.organisation))
    )


def tickets_of(session: Session, actor: Actor, contact_ids: list[int]) -> list[Ticket]:
    """The tickets of these contacts that the agent may see, newest first."""
    if not contact_ids:
        return []
    return list(
        session.scalars(
            queries.visible_tickets(session, actor)
            .where(Ticket.contact_id.in_(contact_ids))
            .order_by(Ticket.id.desc())
        )
    )


def messages_of(session: Session, actor: Actor, contact_id: int) -> list[Message]:
    """All communication with a contact: the messages on their visible tickets, newest first."""
    visible = (
        queries.visible_tickets(session, actor)
        .where(Ticket.contact_id == contact_id)
        .with_only_columns(Ticket.number)
    )
    return list(
        session.scalars(
            select(Message)
            .where(Message.ticket_number.in_(visible.scalar_subquery()))
            .where(Message.attached.is_(True))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(MAX_MESSAGES)
        )
    )


def orders_of(session: Session, contact_id: int) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(Order.contact_id == contact_id)
            .order_by(Order.placed_at.desc().nulls_last(), Order.id.desc())
        )
    )


def account_owner(contact: Contact | None) -> str:
    """The contact's own account owner, else their organisation's."""
    if contact is None:
        return ""
    return contact.account_owner or (
        contact.organisation.account_owner or "" if contact.organisation else ""
    )


@dataclass
class CustomerPanel:
    """What the ticket page shows about the customer, next to the timeline."""

    contact: Contact | None
    organisation: Organisation | None
    account_owner: str
    orders: list[Order]
    tickets: int  # how many tickets of theirs the agent may see


def customer_panel(session: Session, actor: Actor, ticket: Ticket) -> CustomerPanel:
    contact = get_contact(session, ticket.contact_id) if ticket.contact_id else None
    orders = orders_of(session, contact.id) if contact else []
    count = (
        session.scalar(
            select(func.count()).select_from(
                queries.visible_tickets(session, actor)
                .where(Ticket.contact_id == contact.id)
                .subquery()
            )
        )
        if contact
        else 0
    )
    return CustomerPanel(
        contact=contact,
        organisation=contact.organisation if contact else None,
        account_owner=account_owner(contact),
        orders=orders,
        tickets=count or 0,
    )


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
            clauses.append(func.lower(Contact.email).like(_like(local), escape="\\"))
        found = (
            list(session.scalars(select(Contact).where(or_(*clauses)).limit(50))) if clauses else []
        )
    return [c for c in found if c.id != contact.id]


@dataclass
class MergeReport:
    kept: int
    removed: str  # a label of the duplicate, which no longer exists
    relinked: list[str] = field(default_factory=list)  # open tickets, told by their workflows
    closed: list[str] = field(default_factory=list)  # ended tickets, projection row updated
    orders: int = 0


def merge_contacts(
    sessions: sessionmaker[Session],
    engine: TemporalFacade,
    keep_id: int,
    duplicate_id: int,
    actor: Actor,
) -> MergeReport:
    """Merge a duplicate contact into ``keep_id`` and delete the duplicate.

    Orders move to the kept contact; the kept contact's empty name, email, phone,
    organisation and account owner are filled from the duplicate; nothing else moves.
    Each ticket of the duplicate is relinked:

    - an open ticket by its workflow: the ``relink_contact`` signal (a timeline event
      "contact_changed"; the workflow's projection writes the row);
    - **the one exception to "the web never writes ticket state":** a ticket whose workflow
      has ended (the signal raises TicketNotFound) has nobody left to tell, so its projection
      row's ``contact_id`` (with the customer's email and name) is updated here directly.
      That changes no state, adds no event, and is what a reopening run is restored from.

    Temporal is called with no database connection held. Repeating a merge that failed half
    way is safe (a workflow ignores a relink to the contact it has already).
    """
    if keep_id == duplicate_id:
        raise CustomerInvalid({"duplicate_id": "A contact cannot be merged into itself."})
    with sessions() as session:
        keep, duplicate = session.get(Contact, keep_id), session.get(Contact, duplicate_id)
        if keep is None or duplicate is None:
            raise CustomerInvalid({"duplicate_id": "Choose an existing contact."})
        email = keep.email or duplicate.email or ""
        name = keep.name or duplicate.name
        removed = _contact_label(duplicate)
        numbers = list(
            session.scalars(
                select(Ticket.number).where(Ticket.contact_id == duplicate_id).order_by(Ticket.id)
            )
        )
    report = MergeReport(kept=keep_id, removed=removed)
    for number in numbers:
        relink = RelinkContactInput(
            contact_id=keep_id, customer_email=email, customer_name=name, actor=actor.username
        )
        try:
            engine.relink_contact(number, relink)
            report.relinked.append(number)
        except TicketNotFound:
            report.closed.append(number)
    with transaction(sessions) as session:
        keep, duplicate = session.get(Contact, keep_id), session.get(Contact, duplicate_id)
        if keep is None or duplicate is None:
            raise CustomerInvalid({"duplicate_id": "One of the contacts was removed meanwhile."})
        moved = session.execute(
            update(Order).where(Order.contact_id == duplicate_id).values(contact_id=keep_id)
        )
        report.orders = cast(CursorResult[Any], moved).rowcount or 0
        if report.closed:
            session.execute(
                update(Ticket)
                .where(Ticket.number.in_(report.closed))
                .where(Ticket.contact_id == duplicate_id)
                .values(contact_id=keep_id, customer_email=email, customer_name=name)
            )
        taken = {
            "email": duplicate.email,
            "phone": duplicate.phone,
            "name": duplicate.name,
            "organisation_id": duplicate.organisation_id,
            "account_owner": duplicate.account_owner,
        }
        session.delete(duplicate)
        session.flush()  # the duplicate's email is free for the kept contact now
        for attribute, value in taken.items():
            if value and not getattr(keep, attribute):
                setattr(keep, attribute, value)
    log.info(
        "%s merged contact %s (%s) into contact %s: %d open and %d closed tickets, %d orders",
        actor.username,
        duplicate_id,
        removed,
        keep_id,
        len(report.relinked),
        len(report.closed),
        report.orders,
    )
    return report


def _contact_label(contact: Contact) -> str:
    return contact.name or contact.email or contact.phone or f"#{contact.id}"


# -------------------------------------------------------------------------- organisations


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
    if data.account_owner and not _agent_exists(session, data.account_owner):
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
        stmt = stmt.where(func.lower(Organisation.name).like(_like(query.strip()), escape="\\"))
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


# --------------------------------------------------------------------------------- orders


@dataclass
class OrderData:
    """An order as the shop sends it (checked and normalised)."""

    number: str
    customer: CustomerRef
    placed_at: datetime | None = None
    status: str = ""
    total: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)


def _as_text(value: Any, key: str, errors: dict[str, str], limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors[key] = "Must be text."
        return ""
    text = " ".join(str(value).split())
    if len(text) > limit:
        errors[key] = f"At most {limit} characters."
    return text


def parse_placed_at(value: str) -> datetime:
    """An ISO date or date-time (UTC unless it says otherwise); ValueError if not one."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_order(raw: Any) -> OrderData:
    """Check an order (the API's JSON, or a CSV row made into the same shape); every problem
    is in CustomerInvalid.errors, keyed like the JSON (``customer.email``, ``items[2].qty``)."""
    errors: dict[str, str] = {}
    if not isinstance(raw, dict):
        raise CustomerInvalid({"order": "Send the order as an object."})
    number = _as_text(raw.get("number"), "number", errors, 64)
    if not number and "number" not in errors:
        errors["number"] = "Enter the order number."
    elif number and not _ORDER_NUMBER.match(number):
        errors["number"] = "Use letters, digits and . _ - (no spaces)."
    customer = raw.get("customer") or {}
    email = phone = name = ""
    if not isinstance(customer, dict):
        errors["customer"] = "Must be an object with an email (or a phone) and a name."
    else:
        email = normalize_email(_as_text(customer.get("email"), "customer.email", errors, 254))
        phone_raw = _as_text(customer.get("phone"), "customer.phone", errors, 40)
        phone = normalize_phone(phone_raw)
        name = _as_text(customer.get("name"), "customer.name", errors, 200)
        if email and not is_valid_email(email):
            errors["customer.email"] = "Enter a valid email address."
        if phone_raw and not phone:
            errors["customer.phone"] = "Enter a valid phone number."
        if not email and not phone and "customer.email" not in errors:
            errors["customer.email"] = "Give the customer's email address (or phone)."
    placed_at = None
    placed_raw = raw.get("placed_at")
    if placed_raw not in (None, ""):
        if not isinstance(placed_raw, str):
            errors["placed_at"] = "Use an ISO date, e.g. 2026-11-02 or 2026-11-02T10:15:00Z."
        else:
            try:
                placed_at = parse_placed_at(placed_raw)
            except ValueError:
                errors["placed_at"] = "Use an ISO date, e.g. 2026-11-02 or 2026-11-02T10:15:00Z."
    status = _as_text(raw.get("status"), "status", errors, 40)
    total = _as_text(raw.get("total"), "total", errors, 40)
    items = _parse_items(raw.get("items"), errors)
    if errors:
        raise CustomerInvalid(errors)
    return OrderData(
        number=number,
        customer=CustomerRef(email=email, name=name, phone=phone),
        placed_at=placed_at,
        status=status,
        total=total,
        items=items,
    )


def _parse_items(raw: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors["items"] = "Must be a list of {sku, name, qty, price}."
        return []
    if len(raw) > MAX_ITEMS:
        errors["items"] = f"At most {MAX_ITEMS} items."
        return []
    items = []
    for index, entry in enumerate(raw):
        key = f"items[{index}]"
        if not isinstance(entry, dict):
            errors[key] = "Must be an object {sku, name, qty, price}."
            continue
        sku = _as_text(entry.get("sku"), f"{key}.sku", errors, 64)
        name = _as_text(entry.get("name"), f"{key}.name", errors, 200)
        if not sku and not name and f"{key}.name" not in errors:
            errors[f"{key}.name"] = "Give the item's name (or its SKU)."
        qty = entry.get("qty", 1)
        if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= 100_000:
            errors[f"{key}.qty"] = "A whole number from 1."
        item: dict[str, Any] = {"sku": sku, "name": name or sku, "qty": qty}
        if entry.get("price") not in (None, ""):
            item["price"] = _as_text(entry.get("price"), f"{key}.price", errors, 40)
        items.append(item)
    return items


def parse_items_text(text: str) -> list[dict[str, Any]]:
    """ "2 x Kettle; 1 x Cable" -> items; ValueError naming the part that is not "qty x name"."""
    items = []
    for part in text.split(";"):
        if not part.strip():
            continue
        match = _ITEM.match(part)
        if match is None:
            raise ValueError(f"'{part.strip()[:60]}' is not 'quantity x name'.")
        items.append({"sku": "", "name": match.group(2), "qty": int(match.group(1))})
    return items


def find_order(session: Session, number: str) -> Order | None:
    """The order with this number (exactly, else ignoring case)."""
    number = number.strip()
    if not number:
        return None
    order = session.scalar(
        select(Order).where(Order.number == number).options(selectinload(Order.contact))
    )
    if order is None:
        order = session.scalar(
            select(Order)
            .where(func.upper(Order.number) == number.upper())
            .options(selectinload(Order.contact))
            .limit(1)
        )
    return order


def upsert_order(session: Session, data: OrderData) -> tuple[Order, bool]:
    """Create or update the order with this number; (order, created). The customer's contact
    is found by email, else phone, else created."""
    contact = lookup_contact(session, data.customer.email, data.customer.phone)
    if contact is None:
        contact = Contact(
            email=data.customer.email or None,
            phone=data.customer.phone or None,
            name=data.customer.name,
        )
        session.add(contact)
        session.flush()
    elif data.customer.name and not contact.name:
        contact.name = data.customer.name
    order = session.scalar(select(Order).where(Order.number == data.number))
    created = order is None
    if order is None:
        order = Order(number=data.number)
        session.add(order)
    order.contact_id = contact.id
    order.placed_at = data.placed_at
    order.status = data.status
    order.total = data.total
    order.items = data.items
    session.flush()
    return order, created


def order_json(order: Order) -> dict[str, Any]:
    contact = order.contact
    return {
        "number": order.number,
        "customer": {
            "id": contact.id,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
        }
        if contact
        else None,
        "placed_at": queries.iso(order.placed_at),
        "status": order.status,
        "total": order.total,
        "items": list(order.items or []),
    }


def search_orders(session: Session, query: str, page: int = 1) -> Paged[Order]:
    """Orders whose number (or customer's email or name) contains the query, newest first."""
    stmt = select(Order).options(selectinload(Order.contact))
    if query.strip():
        pattern = _like(query.strip())
        stmt = stmt.outerjoin(Contact, Contact.id == Order.contact_id).where(
            or_(
                func.lower(Order.number).like(pattern, escape="\\"),
                func.lower(Contact.email).like(pattern, escape="\\"),
                func.lower(Contact.name).like(pattern, escape="\\"),
            )
        )
    return _paged(
        session, stmt.order_by(Order.placed_at.desc().nulls_last(), Order.id.desc()), page
    )


def tickets_of_order(session: Session, actor: Actor, order_id: int) -> list[Ticket]:
    return list(
        session.scalars(
            queries.visible_tickets(session, actor)
            .where(Ticket.order_id == order_id)
            .order_by(Ticket.id.desc())
        )
    )


@dataclass
class ImportRow:
    line: int  # in the file, the header being line 1
    number: str
    outcome: str  # created | updated | error | skipped
    reason: str = ""


@dataclass
class ImportReport:
    rows: list[ImportRow]
    imported: bool  # False: the file had errors and nothing was imported

    @property
    def errors(self) -> list[ImportRow]:
        return [r for r in self.rows if r.outcome == "error"]


def import_orders_csv(session: Session, raw: bytes) -> ImportReport:
    """Import a CSV of orders, all or nothing: every row is checked before any is written.

    Columns: number, customer_email, customer_name, placed_at, status, total, items (as
    "2 x Kettle; 1 x Cable"); customer_phone may be added. The caller commits.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportReport([ImportRow(1, "", "error", "The file is not UTF-8 text.")], False)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        return ImportReport(
            [ImportRow(1, "", "error", f"Missing column(s): {', '.join(missing)}.")], False
        )
    reader.fieldnames = header
    parsed: list[tuple[ImportRow, OrderData | None]] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if len(parsed) >= MAX_CSV_ROWS:
                parsed.append(
                    (ImportRow(line, "", "error", f"At most {MAX_CSV_ROWS} rows per file."), None)
                )
                break
            values = {k: (v or "").strip() for k, v in record.items() if isinstance(k, str)}
            if not any(values.values()):
                continue
            number = values.get("number", "")
            problems: dict[str, str] = {}
            items: list[dict[str, Any]] = []
            try:
                items = parse_items_text(values.get("items", ""))
            except ValueError as exc:
                problems["items"] = str(exc)
            try:
                data = parse_order(
                    {
                        "number": number,
                        "customer": {
                            "email": values.get("customer_email", ""),
                            "name": values.get("customer_name", ""),
                            "phone": values.get("customer_phone", ""),
                        },
                        "placed_at": values.get("placed_at", ""),
                        "status": values.get("status", ""),
                        "total": values.get("total", ""),
                    }
                )
            except CustomerInvalid as exc:
                problems = {**exc.errors, **problems}
            if problems:
                reason = "; ".join(f"{k}: {v}" for k, v in problems.items())
                parsed.append((ImportRow(line, number, "error", reason), None))
                continue
            data.items = items
            if data.number in seen:
                reason = f"The order {data.number} is on line {seen[data.number]} already."
                parsed.append((ImportRow(line, number, "error", reason), None))
                continue
            seen[data.number] = line
            parsed.append((ImportRow(line, data.number, "ok"), data))
    except csv.Error as exc:
        parsed.append((ImportRow(reader.line_num, "", "error", f"Not valid CSV: {exc}"), None))
    if not parsed:
        return ImportReport([ImportRow(1, "", "error", "The file has no orders.")], False)
    if any(row.outcome == "error" for row, _ in parsed):
        for row, _ in parsed:
            if row.outcome == "ok":
                row.outcome, row.reason = "skipped", "Not imported: the file has errors."
        return ImportReport([row for row, _ in parsed], False)
    for row, checked in parsed:
        assert checked is not None
        _, created = upsert_order(session, checked)
        row.outcome = "created" if created else "updated"
    return ImportReport([row for row, _ in parsed], True)


# ------------------------------------------------------------------ tickets entered by agents

#: What the agent picks in "New ticket": label, channel recorded, process (empty: channel's).
ENTRY_KINDS: dict[str, tuple[str, str, str]] = {
    "phone": ("Phone call", "phone", ""),
    "walk_in": ("Walk-in", "walk_in", ""),
    "returned_parcel": ("Returned parcel", "walk_in", "returns"),
    "email": ("Email", "email", ""),
    "web": ("Web form", "web", ""),
    "api": ("Other (API)", "api", ""),
}
assert all(channel in CHANNELS for _, channel, _ in ENTRY_KINDS.values())


@dataclass
class TicketEntry:
    """The agent's "New ticket" form."""

    kind: str = "phone"
    email: str = ""
    phone: str = ""
    name: str = ""
    subject: str = ""
    body: str = ""
    order_number: str = ""
    priority: int = 2
    process: str = ""
    submission: str = ""  # put in the form when shown: a double submit files one ticket


def entry_from_order(session: Session, number: str) -> TicketEntry:
    """A "New ticket" form pre-filled from an order (its customer, its number)."""
    order = find_order(session, number)
    entry = TicketEntry()
    if order is None:
        entry.order_number = number.strip()[:64]
        return entry
    entry.order_number = order.number
    entry.subject = f"Order {order.number}"
    if order.contact is not None:
        entry.email = order.contact.email or ""
        entry.phone = order.contact.phone or ""
        entry.name = order.contact.name
    return entry


def entry_from_contact(session: Session, contact_id: int) -> TicketEntry:
    contact = session.get(Contact, contact_id)
    entry = TicketEntry()
    if contact is not None:
        entry.email, entry.phone, entry.name = (
            contact.email or "",
            contact.phone or "",
            contact.name,
        )
    return entry


def new_ticket_from_entry(session: Session, entry: TicketEntry, agent: str) -> NewTicket:
    """Check what intake cannot know (kind, process, the order and its customer) and build
    the intake request; the customer is prefilled from the order when the form has none.
    CustomerInvalid with every problem; intake checks the rest."""
    errors: dict[str, str] = {}
    if entry.kind not in ENTRY_KINDS:
        errors["kind"] = "Choose how the request came in."
        _, channel, kind_process = "", "phone", ""
    else:
        _, channel, kind_process = ENTRY_KINDS[entry.kind]
    process = entry.process.strip()
    if process and not processes.exists(session, process):
        errors["process"] = f"There is no process '{process}'."
    email, phone, name = entry.email, entry.phone, entry.name
    order_number = entry.order_number.strip()
    if order_number:
        order = find_order(session, order_number)
        if order is None:
            errors["order_number"] = f"There is no order {order_number}."
        else:
            order_number = order.number
            owner = order.contact
            if owner is not None:
                if not email.strip() and not phone.strip():
                    email, phone = owner.email or "", owner.phone or ""
                    name = name or owner.name
                elif not _same_customer(owner, email, phone):
                    errors["order_number"] = (
                        f"The order {order.number} belongs to another customer "
                        f"({_contact_label(owner)})."
                    )
    if errors:
        raise CustomerInvalid(errors)
    return NewTicket(
        subject=entry.subject,
        body=entry.body,
        customer=CustomerRef(email=email, name=name, phone=phone),
        channel=channel,
        order_number=order_number,
        priority=entry.priority,
        idempotency_key=f"desk:{agent}:{entry.submission}" if entry.submission else "",
        created_by=agent,
        process=process or kind_process,
    )


def _same_customer(contact: Contact, email: str, phone: str) -> bool:
    email, phone = normalize_email(email), normalize_phone(phone)
    return bool((email and email == contact.email) or (phone and phone == contact.phone))
