"""Demo data for a first run: agents, groups, customers, orders, channels, a mailbox and a
web form for the shop's site."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core.models import Channel, Contact, Group, Order, Organisation, Role, User
from tempodesk.knowledge import articles, site
from tempodesk.people import accounts
from tempodesk.people.roles import CUSTOMERS_ROLE
from tempodesk.sla.contracts import parse_contract, save_customer_type, upsert_contract
from tempodesk.sla.policies import PolicyForm, save_calendar, save_policy
from tempodesk.tickets import forms, processes
from tempodesk.tickets.customer_scope import CUSTOMERS_GROUP
from tempodesk.tickets.form_fields import FormField

DEMO_GROUPS = (
    ("Support", "First-line support"),
    ("Billing", "Invoices, payments and refunds"),
    (CUSTOMERS_GROUP, "Sees every contact, organisation and order (the customers right)"),
)
DEMO_USERS = (
    ("admin", "Ada Admin", True, ["Support", "Billing"]),
    ("agent1", "Alice Agent", False, ["Support", CUSTOMERS_GROUP]),
    ("agent2", "Bob Agent", False, ["Billing"]),
)


def seed_demo(session: Session, *, mail_domain: str = "tempodesk.localhost") -> dict[str, Any]:
    """Create the demo data unless users exist; return the logins and an API token.

    Idempotent: a second call changes nothing and returns {}.
    """
    processes.ensure_bundled(session)
    if session.scalar(select(User.id).limit(1)) is not None:
        return {}
    customers = session.scalar(select(Role).where(Role.name == CUSTOMERS_ROLE))
    for name, description in DEMO_GROUPS:
        roles = [customers] if name == CUSTOMERS_GROUP and customers is not None else []
        session.add(Group(name=name, description=description, roles=roles))
    session.flush()
    logins = _add_users(session, mail_domain)
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    token = accounts.create_token(session, admin, name="demo")
    jana, petr, eva = _add_customers(session)
    _add_orders(session, jana, petr, eva)
    _add_channels(session, mail_domain)
    _add_knowledge(session)
    _add_sla(session)
    _add_contract(session)
    session.flush()
    _add_form(session)
    return {"logins": logins, "token": token}


#: Czech public holidays: yearly ones, then Good Friday and Easter Monday of 2026-2030.
CZECH_HOLIDAYS = [
    "01-01", "05-01", "05-08", "07-05", "07-06", "09-28", "10-28", "11-17", "12-24", "12-25",
    "12-26",
    "2026-04-03", "2026-04-06", "2027-03-26", "2027-03-29", "2028-04-14", "2028-04-17",
    "2029-03-30", "2029-04-02", "2030-04-19", "2030-04-22",
]  # fmt: skip
DEMO_CALENDAR = {
    "time_zone": "Europe/Prague",
    "hours": {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": CZECH_HOLIDAYS,
}


def _add_sla(session: Session) -> None:
    """One calendar (Prague office hours) and one policy for every ticket, so the desk shows
    SLA badges at once."""
    save_calendar(session, "Prague office", DEMO_CALENDAR, "admin", None)
    form = PolicyForm(
        name="Standard",
        calendar="Prague office",
        targets={"first_response": "4h", "resolution": "3d"},
    )
    save_policy(session, form, "admin", None)
    # Premium customers get half: 2 business hours, 13.5 of the 27 (3 days of 9).
    save_customer_type(session, "standard", "Standard")
    save_customer_type(session, "premium", "Premium")
    premium = PolicyForm(
        name="Premium",
        calendar="Prague office",
        targets={"first_response": "2h", "resolution": "810m"},
        conditions={"customer_type": ["premium"]},
        position=-1,
    )
    save_policy(session, premium, "admin", None)


def _add_contract(session: Session) -> None:
    """Acme is a premium customer with a generous, warn-only contract (never a blocking one:
    the tests file requests for its people), so `make dev` shows the contract panels."""
    acme = session.scalar(select(Organisation).where(Organisation.name == "Acme Trading s.r.o."))
    assert acme is not None
    acme.customer_type = "premium"
    entitled = [
        {"name": "Support cases", "unit": "cases", "allocation": 500, "on_exhausted": "warn"},
        {"name": "Phone hours", "unit": "hours", "allocation": 100, "channels": ["phone"]},
    ]
    data = parse_contract(
        {
            "reference": "ACME-SUPPORT",
            "name": "Acme premium support",
            "organisation": acme.name,
            "valid_from": "2026-01-01",
            "entitlements": entitled,
        }
    )
    upsert_contract(session, data, "admin")


def _add_users(session: Session, mail_domain: str) -> dict[str, str]:
    """The demo agents, each with a fresh password: {username: password}."""
    logins = {}
    for username, display, is_admin, groups in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        accounts.create_user(
            session,
            username,
            password,
            display_name=display,
            email=f"{username}@{mail_domain}",
            is_admin=is_admin,
            groups=groups,
        )
        logins[username] = password
    return logins


def _add_customers(session: Session) -> tuple[Contact, Contact, Contact]:
    """An organisation and four contacts: one with an account owner, two in the
    organisation (which shares its requests in the portal), one known by phone only."""
    acme = Organisation(name="Acme Trading s.r.o.", account_owner="agent2", portal_shared=True)
    session.add(acme)
    session.flush()
    jana = Contact(name="Jana Nováková", email="jana.novakova@example.com", account_owner="agent1")
    petr = Contact(name="Petr Svoboda", email="petr@acme.example", organisation_id=acme.id)
    eva = Contact(name="Eva Dvořáková", phone="+420605111222")
    # Petr's colleague: signed in to the portal, she sees his requests as her organisation's.
    lucie = Contact(name="Lucie Horáková", email="lucie@acme.example", organisation_id=acme.id)
    session.add_all([jana, petr, eva, lucie])
    session.flush()
    return jana, petr, eva


def _add_orders(session: Session, jana: Contact, petr: Contact, eva: Contact) -> None:
    """One order of each demo contact (the demo tickets name ORD-1001 and ORD-1002)."""
    session.add_all(
        [
            Order(
                number="ORD-1001",
                contact_id=jana.id,
                placed_at=datetime(2026, 11, 2, 10, 15, tzinfo=UTC),
                status="shipped",
                total="1 290 CZK",
                items=[{"sku": "KETTLE-2", "name": "Electric kettle", "qty": 1}],
            ),
            Order(
                number="ORD-1002",
                contact_id=petr.id,
                placed_at=datetime(2026, 11, 12, 14, 0, tzinfo=UTC),
                status="paid",
                total="18 400 CZK",
                items=[
                    {"sku": "CHAIR-9", "name": "Office chair", "qty": 4},
                    {"sku": "DESK-3", "name": "Standing desk", "qty": 1},
                ],
            ),
            Order(
                number="ORD-1003",
                contact_id=eva.id,
                placed_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
                status="awaiting payment",
                total="349 CZK",
                items=[{"sku": "CABLE-1", "name": "USB-C cable", "qty": 2}],
            ),
        ]
    )


def _add_channels(session: Session, mail_domain: str) -> None:
    """The channels requests come in by: web form, API, phone, shop counter, a mailbox."""
    session.add_all(
        [
            Channel(name="web", kind="web", label="Web form", group_name="Support"),
            Channel(name="api", kind="api", label="API", group_name="Support"),
            Channel(name="phone", kind="phone", label="Phone", group_name="Support"),
            Channel(name="walk_in", kind="walk_in", label="Shop counter", group_name="Support"),
            Channel(
                name="support",
                kind="email",
                label="Support mailbox",
                address=f"support@{mail_domain}",
                owner="agent1",
                group_name="Support",
            ),
        ]
    )


def _add_form(session: Session) -> None:
    """A form for the shop's site (/support/shop): an order number, a delivery choice and
    the product, photos allowed; it may be embedded in the shop's pages."""
    forms.save(
        session,
        forms.FormSettings(
            slug="shop",
            title="Questions about an order",
            intro="Tell us which order it is about; we answer within one working day.",
            confirmation="Thank you! Our shop team answers within one working day.",
            embed_origins="https://shop.example.com\nhttp://localhost:8000",
            group="Support",
            owner="agent1",
            max_attachment_bytes=2 * 1024 * 1024,
            attachment_types="pdf, png, jpg, jpeg",
            fields=[
                FormField("product", "Product", "text", max_length=100),
                FormField(
                    "delivery",
                    "Delivery",
                    "select",
                    choices=("Courier", "Post office", "Pick-up point"),
                ),
            ],
        ),
        max_attachment_bytes=2 * 1024 * 1024,
    )


def remember(path: Path, seeded: dict[str, Any]) -> None:
    """Keep the demo logins next to the data (dev only) so `tempodesk dev` can print them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(seeded, indent=2))
    path.chmod(0o600)


def recall(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


#: (language, category slug, category name, [(title, body HTML, public)]).
DEMO_KNOWLEDGE = (
    (
        "en",
        "orders-returns",
        "Orders and returns",
        [
            (
                "How do I return goods?",
                "<p>You may return goods within <strong>30 days</strong> of delivery.</p>"
                "<ol><li>Write to us with your order number.</li>"
                "<li>Pack the goods with the delivery note.</li>"
                "<li>Send the parcel to the address in our answer.</li></ol>"
                "<p>We refund the price within 14 days of receiving the parcel.</p>",
                True,
            ),
            (
                "My kettle does not heat",
                "<p>Check that the base is plugged in and its light is on. Descale the kettle "
                "with citric acid: limescale on the element stops it heating.</p>"
                "<p>Still cold? Ask for a <em>repair</em> under warranty.</p>",
                True,
            ),
            (
                "Refunds over 500 EUR (internal)",
                "<p>Refunds over 500 EUR need a second agent of the <code>Billing</code> group "
                "to approve them before the money is sent.</p>",
                False,
            ),
        ],
    ),
    (
        "cs",
        "objednavky-vraceni",
        "Objednávky a vrácení",
        [
            (
                "Jak vrátit zboží?",
                "<p>Zboží můžete vrátit do <strong>30 dnů</strong> od doručení.</p>"
                "<ol><li>Napište nám číslo objednávky.</li>"
                "<li>Zabalte zboží i s dodacím listem.</li>"
                "<li>Pošlete balík na adresu z naší odpovědi.</li></ol>",
                True,
            ),
            (
                "Konvice nehřeje",
                "<p>Zkontrolujte, že podstavec je zapojený a svítí. Odvápněte konvici "
                "kyselinou citronovou.</p>",
                True,
            ),
        ],
    ),
)


def _add_knowledge(session: Session) -> None:
    """Two categories with a few articles (English and Czech, one internal) and an
    information page."""
    for position, (language, slug, name, entries) in enumerate(DEMO_KNOWLEDGE):
        category = site.save_category(
            session,
            site.CategoryData(name=name, slug=slug, language=language, position=position),
        )
        for title, body, public in entries:
            articles.save(
                session,
                articles.ArticleData(
                    title=title,
                    body=body,
                    category_id=category.id,
                    language=language,
                    public=public,
                    published=True,
                ),
                author="admin",
            )
    site.save_page(
        session,
        site.PageData(
            title="Opening hours",
            body="<p>We answer on working days from 8:00 to 18:00 (CET).</p>",
            language="en",
        ),
    )
