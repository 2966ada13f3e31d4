"""Orders come from the shop, which lives elsewhere: the API upserts them by number and agents
upload CSV exports; a CSV with one bad row imports nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from tempodesk.contracts import CustomerRef
from tempodesk.core.db import iso
from tempodesk.core.limits import max_chars, too_long
from tempodesk.core.models import Contact, Order
from tempodesk.people.addresses import is_valid_email, normalize_email, normalize_phone
from tempodesk.people.common import CustomerInvalid, Paged, like_pattern, paged
from tempodesk.people.contacts import find_or_create_contact

MAX_ITEMS = 500


MAX_CSV_ROWS = 10_000


CSV_COLUMNS = ("number", "customer_email", "customer_name", "placed_at", "status", "total", "items")


_ORDER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


_ITEM = re.compile(r"^\s*(\d{1,6})\s*[x\u00d7*]\s*(\S.*?)\s*$", re.IGNORECASE)


@dataclass
class OrderData:
    """An order as the shop sends it (checked and normalised)."""

    number: str
    customer: CustomerRef
    placed_at: datetime | None = None
    status: str = ""
    total: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)


def _as_text(value: Any, key: str, errors: dict[str, str], limit: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors[key] = "Must be text."
        return ""
    text = " ".join(str(value).split())
    if limit is not None and len(text) > limit:
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
    number = _as_text(raw.get("number"), "number", errors, max_chars(Order.number))
    if not number and "number" not in errors:
        errors["number"] = "Enter the order number."
    elif number and not _ORDER_NUMBER.match(number):
        errors["number"] = "Use letters, digits and . _ - (no spaces)."
    customer = raw.get("customer") or {}
    email = phone = name = ""
    if not isinstance(customer, dict):
        errors["customer"] = "Must be an object with an email (or a phone) and a name."
    else:
        email = normalize_email(
            _as_text(customer.get("email"), "customer.email", errors, max_chars(Contact.email))
        )
        phone_raw = _as_text(customer.get("phone"), "customer.phone", errors, 40)
        phone = normalize_phone(phone_raw)
        name = _as_text(customer.get("name"), "customer.name", errors, max_chars(Contact.name))
        if email and not is_valid_email(email):
            errors["customer.email"] = "Enter a valid email address."
        if phone_raw and not phone:
            errors["customer.phone"] = "Enter a valid phone number."
        elif message := too_long(phone, Contact.phone):  # its digits must fit the contact
            errors["customer.phone"] = message
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
    status = _as_text(raw.get("status"), "status", errors, max_chars(Order.status))
    total = _as_text(raw.get("total"), "total", errors, max_chars(Order.total))
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
    contact = find_or_create_contact(
        session, data.customer.email, data.customer.phone, data.customer.name
    )
    assert contact is not None  # parse_order requires an email or a phone
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
        "placed_at": iso(order.placed_at),
        "status": order.status,
        "total": order.total,
        "items": list(order.items or []),
    }


def search_orders(
    session: Session, query: str, page: int = 1, within: ColumnElement[bool] | None = None
) -> Paged[Order]:
    """Orders whose number (or customer's email or name) contains the query, newest first
    (only those ``within`` holds for)."""
    stmt = select(Order).options(selectinload(Order.contact))
    if within is not None:
        stmt = stmt.where(within)
    if query.strip():
        pattern = like_pattern(query.strip())
        stmt = stmt.outerjoin(Contact, Contact.id == Order.contact_id).where(
            or_(
                func.lower(Order.number).like(pattern, escape="\\"),
                func.lower(Contact.email).like(pattern, escape="\\"),
                func.lower(Contact.name).like(pattern, escape="\\"),
            )
        )
    return paged(session, stmt.order_by(Order.placed_at.desc().nulls_last(), Order.id.desc()), page)


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
        return _refused("The file is not UTF-8 text.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        return _refused(f"Missing column(s): {', '.join(missing)}.")
    reader.fieldnames = header
    parsed = _check_rows(reader)
    if not parsed:
        return _refused("The file has no orders.")
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


def _refused(reason: str) -> ImportReport:
    """The whole file refused before any row was read (the header is line 1)."""
    return ImportReport([ImportRow(1, "", "error", reason)], False)


def _check_rows(reader: csv.DictReader[str]) -> list[tuple[ImportRow, OrderData | None]]:
    """Every non-empty row checked: ("ok", the order) or ("error", None); stops at
    MAX_CSV_ROWS and at a line that is not CSV."""
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
            parsed.append(_check_row(line, values, seen))
    except csv.Error as exc:
        parsed.append((ImportRow(reader.line_num, "", "error", f"Not valid CSV: {exc}"), None))
    return parsed


def _check_row(
    line: int, values: dict[str, str], seen: dict[str, int]
) -> tuple[ImportRow, OrderData | None]:
    """One row as the API's order, with every problem; ``seen`` (number -> line) catches an
    order listed twice."""
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
        return ImportRow(line, number, "error", reason), None
    data.items = items
    if data.number in seen:
        reason = f"The order {data.number} is on line {seen[data.number]} already."
        return ImportRow(line, number, "error", reason), None
    seen[data.number] = line
    return ImportRow(line, data.number, "ok"), data
